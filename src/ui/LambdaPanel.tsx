import { useEffect, useRef, useState } from 'react';
import { SLIDER_MAX, formatLambda, formatPercent, hasResclPointAt, lambdaToSlider, nearestResclPoint, sameLambda, sliderToLambda, taskNames } from '../store/labModel';
import { useLabStore } from '../store/labStore';
import { Help } from './Help';

/** How long after the last slider move "letting go" trains a new network. */
const COMMIT_DELAY_MS = 800;

/** The λ slider, the selected network's numbers, export and import. */
export function LambdaPanel() {
  const sliderLambda = useLabStore((s) => s.sliderLambda);
  const points = useLabStore((s) => s.points);
  const trainingLambda = useLabStore((s) => s.trainingLambda);
  const runState = useLabStore((s) => s.runState);
  const scenario = useLabStore((s) => s.scenario);
  const foldReports = useLabStore((s) => s.foldReports);
  const importResult = useLabStore((s) => s.importResult);
  const { selectLambda, commitLambda, exportModel, importFiles } = useLabStore.getState();
  const [pos, setPos] = useState(() => Math.round(lambdaToSlider(sliderLambda)));
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const importRef = useRef<HTMLInputElement>(null);
  useEffect(() => () => { if (timer.current) clearTimeout(timer.current); }, []);

  const selected = nearestResclPoint(points, sliderLambda);
  const names = taskNames(scenario);
  const fold = selected?.knob !== null && selected ? foldReports.find((f) => sameLambda(f.lambda, selected.knob ?? 0)) : undefined;
  const exact = hasResclPointAt(points, sliderLambda);
  const busy = runState === 'running' || runState === 'paused';

  const move = (p: number) => {
    setPos(p);
    selectLambda(sliderToLambda(p));
    if (timer.current) clearTimeout(timer.current);
  };
  const letGo = (p: number) => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => commitLambda(sliderToLambda(p)), COMMIT_DELAY_MS);
  };

  return (
    <section className="card" aria-labelledby="lambda-title">
      <div className="card-head">
        <h2 id="lambda-title">λ: the trade-off knob</h2>
        <span className="lambda-value" data-testid="lambda.value">λ = {formatLambda(sliderLambda)}</span>
      </div>
      <div className="slider-row">
        <span className="muted">new task</span>
        <input
          type="range" min={0} max={SLIDER_MAX} step={1} value={pos}
          data-testid="lambda.slider" aria-label="λ, weight of the L1 decay on α" aria-describedby="help-lambda"
          aria-valuetext={`λ = ${formatLambda(sliderToLambda(pos))}`}
          onChange={(e) => move(Number(e.target.value))}
          onPointerUp={(e) => letGo(Number(e.currentTarget.value))}
          onKeyUp={(e) => letGo(Number(e.currentTarget.value))}
        />
        <span className="muted">source</span>
      </div>
      <div className="slider-scale" aria-hidden="true">
        <span>0</span><span>1e-6</span><span>1e-5</span><span>1e-4</span><span>1e-3</span><span>1e-2</span><span>1e-1</span>
      </div>
      <Help id="help-lambda">
        λ weighs the L1 decay on α<sub>s</sub>, α<sub>t</sub> that pulls every layer back to the source network (α → 0 means the
        combined layer equals the source layer). Large λ keeps the source task; small λ favours the new task. The left end is
        λ = 0 (no decay: the combined net only distils both teachers). Dragging shows the nearest finished network at once;
        letting go where no network exists trains one, warm-started from the nearest.
      </Help>

      <div className="selected" data-testid="lambda.selected" data-lambda={selected?.knob ?? ''}>
        {selected ? (
          <>
            <p>
              Showing ResCL at <strong>λ = {formatLambda(selected.knob)}</strong>
              {!exact && (trainingLambda !== null
                ? <span className="muted"> · training λ = {formatLambda(trainingLambda)}…</span>
                : <span className="muted"> (nearest finished network{busy ? '; a new λ trains once the run ends' : ''})</span>)}
              {selected.restored && <span className="muted"> · restored</span>}
            </p>
            <dl className="stats">
              <div><dt>source</dt><dd data-testid="selected.source">{formatPercent(selected.source)}</dd></div>
              <div><dt>target</dt><dd data-testid="selected.target">{formatPercent(selected.target)}</dd></div>
              {Object.entries(selected.accByTask).map(([id, a]) => (
                <div key={id}><dt>{names[id] ?? id}</dt><dd data-testid={`selected.acc.${id}`} data-value={a}>{formatPercent(a)}</dd></div>
              ))}
              <div><dt>parameters</dt><dd>{selected.paramCount.toLocaleString('en')}</dd></div>
              {(selected.foldMaxAbsDiff ?? fold?.maxAbsDiff) !== undefined && (
                <div><dt>fold max|Δ|</dt><dd>{(selected.foldMaxAbsDiff ?? fold?.maxAbsDiff ?? 0).toExponential(1)}</dd></div>
              )}
            </dl>
          </>
        ) : (
          <p className="muted">No finished ResCL network yet: press Run.</p>
        )}
      </div>

      <div className="row export-row">
        <button type="button" data-testid="export.tfjs" disabled={!selected} onClick={() => exportModel('tfjs')}
          title="model.json + weights.bin, loadable with tf.loadLayersModel">
          Export tfjs (model.json + weights)
        </button>
        <button type="button" data-testid="export.json" disabled={!selected} onClick={() => exportModel('json')}
          title="one self-contained rescl-folded JSON file">
          Export one JSON file
        </button>
        <label className="button-like">
          Import a model…
          <input ref={importRef} type="file" accept=".json,.bin,application/json" multiple data-testid="import.file" className="visually-hidden"
            onChange={(e) => {
              const files = [...(e.target.files ?? [])];
              e.target.value = '';
              void importFiles(files);
            }} />
        </label>
      </div>
      <Help id="help-export">
        The export is the folded network: every combined layer folded into one plain layer, so it has the source network's size plus
        one head per task. Import either form (for tfjs, pick model.json and its weights file together): the engine checks it and
        scores it on the loaded tasks.
      </Help>
      {importResult && (
        <p className="ok-text" data-testid="import.result">
          Imported <strong>{importResult.fileName}</strong>: {importResult.paramCount.toLocaleString('en')} parameters;{' '}
          {Object.entries(importResult.accByTask).map(([id, a]) => `${names[id] ?? id} ${formatPercent(a)}`).join(' · ')}
        </p>
      )}
    </section>
  );
}
