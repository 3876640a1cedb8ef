/** Containers: select from the store, pass plain arrays to the charts (charts take props only). */
import { useMemo, useState } from 'react';
import { ALPHA_HISTOGRAM_BINS, ALPHA_HISTOGRAM_RANGE, METHOD_KNOBS, METHOD_LABELS, METHOD_NAMES, METRIC_DEFINITIONS, METRIC_NAMES } from '../store/catalog';
import {
  describeStage, formatLambda, formatPercent, formatPercentSd, histogramBars, nearestResclPoint, sameLambda, taskNames, tradeoffSeries, type ResultPoint,
} from '../store/labModel';
import { knobName, useLabStore } from '../store/labStore';
import { AccMatrix } from './charts/AccMatrix';
import { trajectoryStageKey } from '../store/alphaTrajectory';
import { AlphaHistogram } from './charts/AlphaHistogram';
import { AlphaTrajectory } from './charts/AlphaTrajectory';
import { CurveChart, type CurveRow } from './charts/CurveChart';
import { TradeoffChart } from './charts/TradeoffChart';
import { Help } from './Help';

export function TradeoffCard() {
  const points = useLabStore((s) => s.points);
  const sliderLambda = useLabStore((s) => s.sliderLambda);
  const series = useMemo(() => tradeoffSeries(points, knobName), [points]);
  const sel = nearestResclPoint(points, sliderLambda);
  const selected = sel ? series.find((s) => s.method === 'rescl')?.points.find((p) => p.knob !== null && sel.knob !== null && sameLambda(p.knob, sel.knob)) ?? null : null;
  return (
    <section className="card" aria-labelledby="tradeoff-title">
      <h2 id="tradeoff-title">Trade-off: source vs target accuracy</h2>
      <div className="chart" data-testid="tradeoff.chart" data-points={points.length} data-seeds={Math.max(1, ...points.map((p) => p.spread?.seeds ?? 1))}
        data-selected={selected ? `${selected.target.toFixed(2)},${selected.source.toFixed(2)}` : ''}>
        {points.length ? <TradeoffChart series={series} labels={METHOD_LABELS} selected={selected} /> : <p className="empty">Points appear here as each method finishes.</p>}
      </div>
      <Help id="help-tradeoff">
        Each point is one finished run: its accuracy on the new task (x) and the mean accuracy on earlier tasks (y). Lines are Pareto
        fronts of each method's sweep (ResCL over λ, LwF over λ_o, EWC over λ_ewc); up and right is better. The ring is the network the
        λ slider selects. Joint uses all data at once: a reference, not continual. With several seeds each point is the mean over seeds, with
        ±1 sample standard deviation as error bars on both axes.
      </Help>
    </section>
  );
}

export function AlphaCard() {
  const points = useLabStore((s) => s.points);
  const sliderLambda = useLabStore((s) => s.sliderLambda);
  const live = useLabStore((s) => s.liveAlphas);
  const runState = useLabStore((s) => s.runState);
  const trajectories = useLabStore((s) => s.alphaTrajectories);
  const currentKey = useLabStore((s) => s.currentStageKey);
  const sel = nearestResclPoint(points, sliderLambda);
  // While a combined stage streams, show it live; otherwise the selected network's final α.
  const showLive = live !== null && (runState === 'running' || runState === 'paused' || !sel?.alphas);
  const layers = showLive ? live.layers : (sel?.alphas ?? []);
  const trajectoryKey = trajectoryStageKey(trajectories, showLive ? currentKey : null, sel?.knob ?? null);
  const byUnit = trajectoryKey ? trajectories[trajectoryKey] : undefined;
  const title = showLive ? `live, λ = ${formatLambda(live.lambda)}, step ${live.step}` : sel ? `λ = ${formatLambda(sel.knob)}` : '';
  return (
    <section className="card" aria-labelledby="alpha-title">
      <div className="card-head">
        <h2 id="alpha-title">α per layer</h2>
        <span className="muted">{title}</span>
      </div>
      <div className="alpha-grid" data-testid="alpha.histogram" data-layers={layers.length} data-source={showLive ? 'live' : 'selected'}>
        {layers.length === 0 && <p className="empty">The combined stage streams α here.</p>}
        {layers.map((l) => (
          <div key={l.unit} className="alpha-row">
            <AlphaHistogram unit={l.unit} bars={histogramBars(l, ALPHA_HISTOGRAM_RANGE, ALPHA_HISTOGRAM_BINS)}
              meanSource={l.statsSource.mean} meanTarget={l.statsTarget.mean} />
            {byUnit?.[l.unit]?.length ? <AlphaTrajectory unit={l.unit} points={byUnit[l.unit]} /> : null}
          </div>
        ))}
      </div>
      <p className="legend-line">
        <span className="swatch swatch-source" /> α<sub>s</sub> (source branch, starts at −0.5) <span className="swatch swatch-target" /> α<sub>t</sub> (target branch, starts at +0.5)
      </p>
      <Help id="help-alpha">
        Each layer computes ReLU((1+α<sub>s</sub>)·z<sub>s</sub> + α<sub>t</sub>·z<sub>t</sub>), one α per output channel. Both start at ½ source + ½
        target. The L1 decay pulls both to 0 — the source layer; a channel that keeps α<sub>t</sub> away from 0 is one the new task needs.
        Beside each histogram: mean |α<sub>s</sub>| and mean |α<sub>t</sub>| of that layer against the step of the combine stage.
      </Help>
    </section>
  );
}

export function CurvesCard() {
  const stages = useLabStore((s) => s.stages);
  const curves = useLabStore((s) => s.curves);
  const currentKey = useLabStore((s) => s.currentStageKey);
  const scenario = useLabStore((s) => s.scenario);
  const [picked, setPicked] = useState<string | null>(null);
  const key = picked && curves[picked] ? picked : currentKey;
  const names = taskNames(scenario);
  const rows: CurveRow[] = useMemo(() => (key ? curves[key] ?? [] : []).map((p) => {
    const row: CurveRow = { step: p.step, loss: p.loss };
    for (const [id, a] of Object.entries(p.acc ?? {})) row[`acc:${id}`] = 100 * a;
    return row;
  }), [curves, key]);
  const tasks = (scenario?.tasks ?? []).map((t) => ({ id: t.id, name: names[t.id] ?? t.id }));
  return (
    <section className="card" aria-labelledby="curves-title">
      <div className="card-head">
        <h2 id="curves-title">Loss and accuracy</h2>
        <select aria-label="Stage to show" value={key ?? ''} onChange={(e) => setPicked(e.target.value || null)} disabled={stages.length === 0}>
          {stages.length === 0 && <option value="">no stage yet</option>}
          {stages.map((s) => <option key={s.key} value={s.key}>{describeStage(s, METHOD_LABELS, knobName)}</option>)}
        </select>
      </div>
      <div className="chart" data-testid="curves.chart">
        {rows.length ? <CurveChart rows={rows} tasks={tasks} /> : <p className="empty">Curves of the running stage appear here.</p>}
      </div>
    </section>
  );
}

/** The metric suite of the shown network: mean ± sd over seeds; "—" with the reason when undefined. */
function MetricsTable({ point }: { point: ResultPoint }) {
  if (!point.metrics) return null;
  const metrics = point.metrics;
  return (
    <table className="criteria" data-testid="metrics.table">
      <thead><tr><th scope="col">Metric</th><th scope="col">value</th></tr></thead>
      <tbody>
        {METRIC_NAMES.map((name) => {
          const m = metrics[name];
          const def = METRIC_DEFINITIONS[name];
          return (
            <tr key={name}>
              <th scope="row" title={def.definition}>{def.label}</th>
              <td>{m && m.value !== null ? formatPercentSd(m.value, m.sd, m.seeds) : <span className="muted">— {m?.why ? `(${m.why})` : ''}</span>}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function MatrixCard() {
  const points = useLabStore((s) => s.points);
  const sliderLambda = useLabStore((s) => s.sliderLambda);
  const scenario = useLabStore((s) => s.scenario);
  const criteria = useLabStore((s) => s.criteria);
  const setup = useLabStore((s) => s.setup);
  const [method, setMethod] = useState<'selected' | string>('selected');
  const sel = nearestResclPoint(points, sliderLambda);
  const others = points.filter((p) => p.method !== 'rescl');
  const shown = method === 'selected' ? sel : others.find((p) => `${p.method}|${p.knob}` === method) ?? sel;
  const names = (scenario?.tasks ?? []).map((t) => t.name);
  const matrixNames = names.length ? names : (shown?.accMatrix.map((_, i) => `task ${i + 1}`) ?? []);
  const methods = METHOD_NAMES.filter((m) => setup.methods.includes(m) || criteria[m]);
  return (
    <section className="card" aria-labelledby="matrix-title">
      <div className="card-head">
        <h2 id="matrix-title">Accuracy matrix</h2>
        <select aria-label="Network to show" value={method} onChange={(e) => setMethod(e.target.value)}>
          <option value="selected">ResCL at the selected λ</option>
          {others.map((p) => (
            <option key={`${p.method}|${p.knob}`} value={`${p.method}|${p.knob}`}>
              {METHOD_LABELS[p.method]}{p.knob !== null ? ` ${METHOD_KNOBS[p.method]?.knob}=${formatLambda(p.knob)}` : ''}
            </option>
          ))}
        </select>
      </div>
      {shown ? (
        <AccMatrix matrix={shown.accMatrix} taskNames={matrixNames}
          caption={`${METHOD_LABELS[shown.method]}${shown.knob !== null ? ` ${METHOD_KNOBS[shown.method]?.knob ?? ''}=${formatLambda(shown.knob)}` : ''}: R[i][j], test accuracy (%) on task j after learning task i${(shown.spread?.seeds ?? 1) > 1 ? `, mean over ${shown.spread?.seeds} seeds` : ''}`} />
      ) : (
        <div data-testid="acc.matrix" className="empty">The matrix of the selected network appears when it finishes.</div>
      )}
      {shown && <MetricsTable point={shown} />}
      <h3>The paper's two criteria</h3>
      <table className="criteria" data-testid="criteria.table">
        <thead>
          <tr><th scope="col">Method</th><th scope="col">max average accuracy</th><th scope="col">source acc. at target ≥ τ</th></tr>
        </thead>
        <tbody>
          {methods.map((m) => {
            const c = criteria[m];
            return (
              <tr key={m}>
                <th scope="row">{METHOD_LABELS[m]}</th>
                <td>{c ? formatPercentSd(c.maxAvgAcc, c.maxAvgAccSd, c.seeds) : '—'}</td>
                <td>{c ? (c.srcAccAtTau === null ? <span className="muted" title={c.srcAccAtTauWhy}>{c.srcAccAtTauWhy ?? `not reachable (τ = ${formatPercent(c.tau)})`}</span> : (
                  <>
                    {formatPercentSd(c.srcAccAtTau, c.srcAccAtTauSd, (c.seeds ?? 1) - (c.unreachableSeeds ?? 0))} (τ = {formatPercent(c.tau)})
                    {c.unreachableSeeds ? <span className="muted"> · τ not reached in {c.unreachableSeeds} of {c.seeds} seeds</span> : null}
                  </>
                )) : '—'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <Help id="help-criteria">
        Fair comparisons that do not depend on one knob value: (1) the best average accuracy over all tasks over the sweep; (2) the best source accuracy
        among settings whose target accuracy reaches τ (fine-tuning's target accuracy minus one point). With several seeds: each criterion per
        seed (τ from the mean fine-tuning target), shown as mean ± sample standard deviation. Above them, the metric suite of the shown
        network's accuracy matrix (hover a name for its definition); FWT needs networks trained on each task alone, which only repro trains.
      </Help>
    </section>
  );
}
