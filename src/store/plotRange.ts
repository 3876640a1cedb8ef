/**
 * Axis ranges for the lab's charts, fitted to the data: the trade-off plane zooms to where its
 * points (and their error bars) are, instead of 0 … 100 or coarse steps of 5 that crowd a corner.
 * Pure functions (tested in Node); the charts take the result as props.
 */

/** A fitted axis: its [lo, hi] domain and evenly spaced tick values from lo to hi. */
export interface AxisRange {
  domain: [number, number];
  ticks: number[];
}

/** Options of `fitAxis`. */
export interface FitAxisOptions {
  /** the margin on each side, as a fraction of the data's span (default 0.08) */
  marginFraction?: number;
  /** the smallest span of the domain, so one point (or a tight cluster) stays readable (default 2) */
  minSpan?: number;
  /** hard bounds of the axis (default 0 … 100: accuracies in percent) */
  bounds?: [number, number];
  /** about how many ticks (default 5) */
  tickCount?: number;
}

/** The "nice" step (1, 2, 2.5 or 5 × 10^k) that splits `span` into about `count` intervals. */
export function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  const nice = m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10;
  return nice * power;
}

/**
 * The domain of an axis holding every finite value of `values`:
 * [min − m, max + m] with m = marginFraction · (max − min), widened about its centre to `minSpan`,
 * snapped outwards to the tick step and kept inside `bounds` (shifted, not cut, when it can be).
 * No finite value: the whole `bounds`.
 */
export function fitAxis(values: readonly number[], options: FitAxisOptions = {}): AxisRange {
  const { marginFraction = 0.08, minSpan = 2, bounds = [0, 100], tickCount = 5 } = options;
  const xs = values.filter((v) => Number.isFinite(v));
  let lo = xs.length ? Math.min(...xs) : bounds[0];
  let hi = xs.length ? Math.max(...xs) : bounds[1];
  const margin = (hi - lo) * marginFraction;
  lo -= margin;
  hi += margin;
  if (hi - lo < minSpan) {
    const mid = (lo + hi) / 2;
    lo = mid - minSpan / 2;
    hi = mid + minSpan / 2;
  }
  const step = niceStep(hi - lo, tickCount);
  lo = Math.floor(lo / step + 1e-9) * step;
  hi = Math.ceil(hi / step - 1e-9) * step;
  // inside the bounds: shift a range that sticks out, cut only when it is wider than the bounds
  if (lo < bounds[0]) { hi = Math.min(bounds[1], hi + (bounds[0] - lo)); lo = bounds[0]; }
  if (hi > bounds[1]) { lo = Math.max(bounds[0], lo - (hi - bounds[1])); hi = bounds[1]; }
  const ticks: number[] = [];
  const first = Math.ceil(lo / step - 1e-9) * step;
  for (let t = first; t <= hi + 1e-9 * step; t += step) ticks.push(Number(t.toFixed(6)));
  return { domain: [Number(lo.toFixed(6)), Number(hi.toFixed(6))], ticks };
}
