/**
 * The metric suite of one accuracy matrix R (R[i][j]: accuracy on task j after learning task i,
 * T = the last task), each value with a one-line definition; a value that cannot be computed is
 * null with the reason (the UI and reports print "—" and the reason).
 */
import type { AccuracyMatrix } from './metrics';

export const METRIC_NAMES = ['averageAccuracy', 'bwt', 'forgetting', 'fwt', 'plasticity'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/** A metric's value, or null with why it is undefined. */
export type MetricValue = { value: number; why?: undefined } | { value: null; why: string };

/** One-line definitions (for tooltips and reports). */
export const METRIC_DEFINITIONS: Record<MetricName, { label: string; definition: string }> = {
  averageAccuracy: { label: 'Average accuracy', definition: 'ACC = mean_j R[T][j]: mean final accuracy over all tasks.' },
  bwt: { label: 'BWT', definition: 'BWT = mean_{j<T} (R[T][j] − R[j][j]): how learning later tasks changed earlier ones (negative = forgetting).' },
  forgetting: { label: 'Forgetting', definition: 'F = mean_{j<T} (max_{j≤l<T} R[l][j] − R[T][j]): mean drop from each earlier task\'s best accuracy.' },
  fwt: { label: 'FWT', definition: 'FWT = mean_{j≥1} (R[j][j] − S_j), S_j: same architecture trained on task j alone from random init, same budget.' },
  plasticity: { label: 'Plasticity', definition: 'P = mean_{j≥1} R[j][j]: accuracy on each new task right after learning it.' },
};

const ok = (value: number): MetricValue => ({ value });
const undef = (why: string): MetricValue => ({ value: null, why });
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** R[i][j] if present and finite, else null. */
function cell(r: AccuracyMatrix, i: number, j: number): number | null {
  const v = r[i]?.[j];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/**
 * Every metric of `r`. `scratch[j]` (optional) is S_j, the accuracy of a network trained on task j
 * alone from random init with the same budget (entry 0 unused); FWT is null without it.
 */
export function metricSuite(r: AccuracyMatrix, scratch?: readonly (number | null)[]): Record<MetricName, MetricValue> {
  const T = r.length - 1;
  const finalRow = r[T] ?? [];
  const complete = finalRow.length === T + 1 && finalRow.every((v) => Number.isFinite(v));
  const averageAccuracy = T < 0 ? undef('no tasks') : complete ? ok(mean(finalRow)) : undef('the final row has a missing or NaN accuracy');
  // the diagonal and earlier rows: absent for joint training (only the final row exists)
  const diag: (number | null)[] = Array.from({ length: T + 1 }, (_, j) => cell(r, j, j));
  const missing = (js: number[]) => js.filter((j) => diag[j] === null);
  let bwt: MetricValue;
  let forgetting: MetricValue;
  const old = Array.from({ length: T }, (_, j) => j);
  if (T < 1) {
    bwt = forgetting = undef('needs at least two tasks');
  } else if (!complete) {
    bwt = forgetting = undef('the final row has a missing or NaN accuracy');
  } else if (missing(old).length) {
    bwt = forgetting = undef(`no accuracy right after learning task ${missing(old).join(', ')} (e.g. joint training has only the final row)`);
  } else {
    bwt = ok(mean(old.map((j) => finalRow[j] - (diag[j] as number))));
    const drops: number[] = [];
    let gap = '';
    for (const j of old) {
      let best = -Infinity;
      for (let l = j; l < T; l++) {
        const v = cell(r, l, j);
        if (v === null) gap = `R[${l}][${j}] is missing or NaN`;
        else best = Math.max(best, v);
      }
      drops.push(best - finalRow[j]);
    }
    forgetting = gap ? undef(gap) : ok(mean(drops));
  }
  const newer = Array.from({ length: T }, (_, i) => i + 1);
  let plasticity: MetricValue;
  let fwt: MetricValue;
  if (T < 1) {
    plasticity = fwt = undef('needs at least two tasks');
  } else if (r.slice(0, T).some((row) => row.length === 0)) {
    plasticity = fwt = undef('only the final row exists (joint training is not a sequence)');
  } else if (missing(newer).length) {
    plasticity = fwt = undef(`no accuracy right after learning task ${missing(newer).join(', ')} (e.g. joint training has only the final row)`);
  } else {
    plasticity = ok(mean(newer.map((j) => diag[j] as number)));
    const s = newer.map((j) => scratch?.[j]);
    fwt = !scratch ? undef('needs single-task reference accuracies S_j (trained from random init, same budget)')
      : s.some((v) => typeof v !== 'number' || !Number.isFinite(v)) ? undef('a single-task reference accuracy is missing or NaN')
        : ok(mean(newer.map((j, i) => (diag[j] as number) - (s[i] as number))));
  }
  return { averageAccuracy, bwt, forgetting, fwt, plasticity };
}

/** A metric as text: the value as a percentage (points for differences) with `digits`, or "—". */
export function formatMetric(m: MetricValue, digits = 1): string {
  return m.value === null ? '—' : (m.value * 100).toFixed(digits);
}
