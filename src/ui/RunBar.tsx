import { useLabStore } from '../store/labStore';

const STATE_LABEL = { idle: 'Idle', running: 'Running', paused: 'Paused', done: 'Done', error: 'Error' } as const;

/** Run, pause/resume, step, stop, and the engine's run state. */
export function RunBar() {
  const runState = useLabStore((s) => s.runState);
  const detail = useLabStore((s) => s.runDetail);
  const ready = useLabStore((s) => s.status === 'ready');
  const loading = useLabStore((s) => s.loading);
  const trainingLambda = useLabStore((s) => s.trainingLambda);
  const { runFull, pause, resume, step, stopRun } = useLabStore.getState();
  const active = runState === 'running' || runState === 'paused';
  return (
    <div className="runbar" role="toolbar" aria-label="Run controls">
      <button type="button" className="primary" data-testid="run.start" disabled={!ready || active || loading} onClick={() => void runFull()}
        title="Source → fine-tune → combine → λ sweep → baselines">
        ▶ Run
      </button>
      <button type="button" data-testid="run.pause" disabled={!active} onClick={runState === 'paused' ? resume : pause}>
        {runState === 'paused' ? 'Resume' : 'Pause'}
      </button>
      <button type="button" data-testid="run.step" disabled={runState !== 'paused'} onClick={step} title="One training step, then pause again">
        Step
      </button>
      <button type="button" data-testid="run.stop" disabled={!active} onClick={stopRun} title="Stop after this step; finished results stay">
        Stop
      </button>
      <span className={`run-status run-${runState}`} data-testid="run.status" data-state={runState} aria-live="polite">
        {STATE_LABEL[runState]}
        {loading ? ' · loading data…' : ''}
        {trainingLambda !== null && active ? ' · training a new λ' : ''}
        {detail ? <span className="muted"> · {detail}</span> : null}
      </span>
    </div>
  );
}
