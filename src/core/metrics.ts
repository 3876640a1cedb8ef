/**
 * Continual-learning metrics and the paper's two fair criteria (docs/METHOD.md, "Metrics").
 * Pure functions on plain numbers; accuracies are fractions in [0, 1].
 */

/**
 * Accuracy matrix R: R[i][j] = test accuracy on task j after learning task i, for j ≤ i
 * (row i has i + 1 entries).
 */
export type AccuracyMatrix = number[][];

/** Average accuracy after task i: mean_{j ≤ i} R[i][j]. */
export function averageAccuracy(r: AccuracyMatrix, i = r.length - 1): number {
  const row = r[i];
  if (!row || row.length === 0) return NaN;
  return row.reduce((a, b) => a + b, 0) / row.length;
}

/** Forgetting of task j after the last task T: max_{l < T, l ≥ j} R[l][j] − R[T][j] (for j < T). */
export function forgetting(r: AccuracyMatrix): number[] {
  const last = r.length - 1;
  const out: number[] = [];
  for (let j = 0; j < last; j++) {
    let best = -Infinity;
    for (let l = j; l < last; l++) best = Math.max(best, r[l][j]);
    out.push(best - r[last][j]);
  }
  return out;
}

/** Backward transfer: BWT = mean_{j < T} (R[T][j] − R[j][j]); NaN with a single task. */
export function backwardTransfer(r: AccuracyMatrix): number {
  const last = r.length - 1;
  if (last < 1) return NaN;
  let sum = 0;
  for (let j = 0; j < last; j++) sum += r[last][j] - r[j][j];
  return sum / last;
}

/**
 * One point of a sweep: source accuracy (mean over earlier tasks), target accuracy (last task) and
 * the average over all tasks (criterion 1; equals (source + target) / 2 for two tasks).
 */
export interface TradeoffPoint {
  method: string;
  knob: number | null;
  source: number;
  target: number;
  /** mean_j R[T][j] over every task; absent on points made elsewhere (then (source + target) / 2) */
  average?: number;
}

/**
 * The (source, target) point of a final accuracy row R[T]: source = mean_{j<T} R[T][j],
 * target = R[T][T], average = mean_j R[T][j].
 */
export function tradeoffOf(method: string, knob: number | null, finalRow: readonly number[]): TradeoffPoint {
  const old = finalRow.slice(0, -1);
  const source = old.length ? old.reduce((a, b) => a + b, 0) / old.length : NaN;
  const average = finalRow.length ? finalRow.reduce((a, b) => a + b, 0) / finalRow.length : NaN;
  return { method, knob, source, target: finalRow[finalRow.length - 1], average };
}

/**
 * Pareto front in the (target, source) plane, both maximised: the points no other point beats on
 * both axes (ties kept once), sorted by increasing target accuracy.
 */
export function paretoFront<P extends { source: number; target: number }>(points: readonly P[]): P[] {
  const sorted = [...points].filter((p) => Number.isFinite(p.source) && Number.isFinite(p.target))
    .sort((a, b) => b.target - a.target || b.source - a.source);
  const front: P[] = [];
  let bestSource = -Infinity;
  for (const p of sorted) {
    if (p.source > bestSource) {
      front.push(p);
      bestSource = p.source;
    }
  }
  return front.reverse();
}

/**
 * Criterion 1: maximum achievable average accuracy = max over the sweep of the average accuracy over
 * all tasks (`average`; for points without it, (a_src + a_tgt) / 2, the same for two tasks).
 * Points whose average is not finite are skipped; NaN only when no point has one.
 */
export function maxAverageAccuracy(points: readonly { source: number; target: number; average?: number }[]): number {
  let best = NaN;
  for (const p of points) {
    const avg = p.average ?? (p.source + p.target) / 2;
    if (Number.isFinite(avg) && !(avg <= best)) best = avg;
  }
  return best;
}

/** Criterion 2's value, or null with why it is undefined (one sentence). */
export type Criterion2 = { value: number; why: null } | { value: null; why: string };

/**
 * Criterion 2: source accuracy at a required target accuracy τ = max a_src over the settings with
 * a_tgt ≥ τ. Points whose source or target accuracy is not finite never count (a NaN cannot win);
 * null, with the reason, when τ is not finite, when no point is finite, or when none reaches τ.
 */
export function criterion2(points: readonly { source: number; target: number }[], tau: number): Criterion2 {
  if (!Number.isFinite(tau)) return { value: null, why: `τ is undefined (${tau}): no finite target accuracy to take it from` };
  const finite = points.filter((p) => Number.isFinite(p.source) && Number.isFinite(p.target));
  if (!finite.length) return { value: null, why: 'no point has a finite source and target accuracy' };
  let best: number | null = null;
  for (const p of finite) if (p.target >= tau && (best === null || p.source > best)) best = p.source;
  return best === null ? { value: null, why: `no setting reaches τ = ${(100 * tau).toFixed(1)} % target accuracy` } : { value: best, why: null };
}

/** Criterion 2's value alone (`criterion2`): null when it is undefined ("not reachable"). */
export function sourceAccuracyAtTarget(points: readonly { source: number; target: number }[], tau: number): number | null {
  return criterion2(points, tau).value;
}

/** The default τ: fine-tuning's target accuracy minus one point (0.01). */
export function defaultTau(finetuneTarget: number): number {
  return finetuneTarget - 0.01;
}

/** Both criteria of one method's sweep. */
export interface Criteria {
  maxAvgAcc: number;
  tau: number;
  srcAccAtTau: number | null;
  /** why criterion 2 is undefined (only when `srcAccAtTau` is null) */
  srcAccAtTauWhy?: string;
}

/** Computes both criteria for one method's sweep at a given τ. */
export function criteriaOf(points: readonly { source: number; target: number; average?: number }[], tau: number): Criteria {
  const c2 = criterion2(points, tau);
  return { maxAvgAcc: maxAverageAccuracy(points), tau, srcAccAtTau: c2.value, ...(c2.why !== null ? { srcAccAtTauWhy: c2.why } : {}) };
}
