import { METHOD_LABELS } from '../store/catalog';
import { describeStage, formatDuration, formatPercent, taskNames } from '../store/labModel';
import { knobName, useLabStore } from '../store/labStore';

/** The running stage: progress bar with ETA, loss, accuracy per task, samples/s; then the stage log. */
export function StageProgress() {
  const stages = useLabStore((s) => s.stages);
  const currentKey = useLabStore((s) => s.currentStageKey);
  const scenario = useLabStore((s) => s.scenario);
  const names = taskNames(scenario);
  const current = stages.find((s) => s.key === currentKey) ?? null;
  const fraction = current && current.totalSteps > 0 ? Math.min(1, current.step / current.totalSteps) : 0;
  const finished = stages.filter((s) => s.done).length;

  return (
    <section className="card" aria-labelledby="progress-title">
      <div className="card-head">
        <h2 id="progress-title">Training</h2>
        <span className="muted">{stages.length ? `${finished} of ${stages.length} stages finished` : 'press Run'}</span>
      </div>
      <div className="stage-progress" data-testid="stage.progress" data-stage={current?.stage ?? ''} data-step={current?.step ?? 0}>
        <div className="stage-title">{current ? describeStage(current, METHOD_LABELS, knobName) : 'No stage yet'}</div>
        <progress max={1} value={fraction} aria-label="progress of the current stage" />
        <dl className="stats">
          <div><dt>step</dt><dd>{current ? `${current.step} / ${current.totalSteps}` : '—'}</dd></div>
          <div><dt>epoch</dt><dd>{current && current.epochs ? `${Math.min(current.epochs, current.epoch + 1)} / ${current.epochs}` : '—'}</dd></div>
          {current?.seed && current.seed.count > 1 && (
            <div data-testid="stage.seed"><dt>seed</dt><dd>{current.seed.value} ({current.seed.index + 1} of {current.seed.count})</dd></div>
          )}
          <div><dt>ETA (stage)</dt><dd>{current && !current.done ? formatDuration(current.etaMs) : '—'}</dd></div>
          {current?.seed && current.seed.count > 1 && (
            <div><dt>ETA (run, all seeds)</dt><dd>{current.done ? '—' : current.runEtaMs !== undefined ? formatDuration(current.runEtaMs) : 'known after seed 1'}</dd></div>
          )}
          <div><dt>loss</dt><dd>{current?.loss !== null && current?.loss !== undefined ? current.loss.toFixed(4) : '—'}</dd></div>
          <div><dt>samples/s</dt><dd>{current?.samplesPerSec ? Math.round(current.samplesPerSec).toLocaleString('en') : '—'}</dd></div>
          {current?.lambda !== undefined && <div><dt>λ</dt><dd>{current.lambda}</dd></div>}
          {Object.entries(current?.accByTask ?? {}).map(([id, acc]) => (
            <div key={id}><dt>acc {names[id] ?? id}</dt><dd>{formatPercent(acc)}</dd></div>
          ))}
        </dl>
      </div>
      {stages.length > 0 && (
        <details className="stage-log">
          <summary>All stages</summary>
          <ol>
            {stages.map((s) => (
              <li key={s.key} className={s.done ? 'done' : 'active'}>
                {describeStage(s, METHOD_LABELS, knobName)} — {s.done ? 'done' : `${s.step}/${s.totalSteps}`}
                {s.loss !== null && <span className="muted"> · loss {s.loss.toFixed(3)}</span>}
              </li>
            ))}
          </ol>
        </details>
      )}
    </section>
  );
}
