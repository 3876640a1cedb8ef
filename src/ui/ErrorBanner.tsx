import { useLabStore } from '../store/labStore';

/** Engine and file errors. A recoverable error leaves the run and its results as they are. */
export function ErrorBanner() {
  const errors = useLabStore((s) => s.errors);
  const dismiss = useLabStore((s) => s.dismissErrors);
  if (errors.length === 0) return null;
  const recent = errors.slice(-3);
  return (
    <div className="error-banner" role="alert" data-testid="error.banner" data-code={errors[errors.length - 1].code}>
      <ul>
        {recent.map((e, i) => (
          <li key={errors.length - recent.length + i} data-testid="engine.error" data-code={e.code}>
            <code>{e.code}</code> {e.message}
            {!e.recoverable && <span className="muted"> (the engine stopped: reload the page, or pick another backend)</span>}
          </li>
        ))}
      </ul>
      <button type="button" className="ghost" onClick={dismiss} aria-label="Dismiss errors">Dismiss</button>
    </div>
  );
}
