import { useEffect } from 'react';
import { canResumeInterrupted, useLabStore } from '../store/labStore';
import { BackendPanel } from './BackendPanel';
import { ErrorBanner } from './ErrorBanner';
import { LambdaPanel } from './LambdaPanel';
import { AlphaCard, CurvesCard, MatrixCard, TradeoffCard } from './ResultsPanels';
import { RunBar } from './RunBar';
import { SetupPanel } from './SetupPanel';
import { StageProgress } from './StageProgress';

/** The engine's `lastStage` ('start', 'source' or 'method|knob') in words. */
function describeLastStage(lastStage: string): string {
  if (lastStage === 'start') return 'before its source network finished';
  if (lastStage === 'source') return 'after its source network finished';
  const [method, knob] = lastStage.split('|');
  return `after ${method}${knob && knob !== '-' ? ` at ${Number(knob)}` : ''} finished`;
}

export function App() {
  const start = useLabStore((s) => s.start);
  const stop = useLabStore((s) => s.stop);
  const notices = useLabStore((s) => s.urlNotices);
  const restoredCount = useLabStore((s) => s.restoredCount);
  const clearSaved = useLabStore((s) => s.clearSaved);
  const interrupted = useLabStore((s) => s.interrupted);
  const resumeInterrupted = useLabStore((s) => s.resumeInterrupted);
  const dismissInterrupted = useLabStore((s) => s.dismissInterrupted);
  const selectedBackend = useLabStore((s) => s.ready?.backend ?? 'cpu');
  const canResume = useLabStore(canResumeInterrupted);
  const backendNotice = notices.find((n) => n.startsWith('Unknown backend'));
  const otherNotices = notices.filter((n) => n !== backendNotice);

  useEffect(() => {
    start();
    return stop;
  }, [start, stop]);

  return (
    <div className="app">
      <header className="app-header">
        <div>
          <h1>ResCL Lab</h1>
          <p className="subtitle">
            Residual Continual Learning (Lee et al., AAAI 2020), trained in your browser: learn a task, fine-tune on the next, then
            combine both networks layer by layer and fold them back into one network of the original size.
          </p>
        </div>
        <RunBar />
      </header>
      <ErrorBanner />
      {otherNotices.length > 0 && (
        <div className="notice" role="status" data-testid="url.notice">
          {otherNotices.map((n) => <p key={n}>{n}</p>)}
        </div>
      )}
      {restoredCount !== null && restoredCount > 0 && (
        <p className="notice" role="status" data-testid="restored.notice">
          {restoredCount} result{restoredCount > 1 ? 's' : ''} restored from an earlier session.{' '}
          <button type="button" className="link" onClick={clearSaved}>Forget them</button>
        </p>
      )}
      {interrupted && (
        <p className="notice" role="status" data-testid="interrupted.notice">
          A run on <strong>{interrupted.scenario}</strong> ({interrupted.config.net}, seed {interrupted.seed ?? interrupted.config.seed}) was
          interrupted {describeLastStage(interrupted.lastStage)}.{' '}
          {interrupted.scenario === 'custom'
            ? 'It used your own IDX files, which are not stored: load them again and run.'
            : <button type="button" className="link" data-testid="interrupted.resume" disabled={!canResume} onClick={resumeInterrupted}>Resume it from there</button>}
          {' '}
          <button type="button" className="link" data-testid="interrupted.dismiss" onClick={dismissInterrupted}>Dismiss</button>
        </p>
      )}
      <main className="layout">
        <div className="col-setup">
          <SetupPanel />
          <BackendPanel notice={backendNotice} />
        </div>
        <div className="col-results">
          <StageProgress />
          <LambdaPanel />
          <TradeoffCard />
          <AlphaCard />
          <CurvesCard />
          <MatrixCard />
        </div>
      </main>
      <footer className="app-footer">
        <span>
          The setup lives in the URL (<code>?scenario=&amp;net=&amp;methods=&amp;epochs=&amp;batch=&amp;trainLimit=&amp;seed=&amp;seeds=&amp;backend=&amp;lambda=</code>): copy the link to
          reproduce a run. Results are kept in this browser (IndexedDB).{' '}
          <a href={`?bench&backend=${selectedBackend}&net=mlp,conv4&stage=plain,combined&batch=32&steps=5&warmup=1`} data-testid="bench.link">
            How fast does this machine train?
          </a>{' '}
          (the training-step benchmark, on the backend in use)
        </span>
      </footer>
    </div>
  );
}
