/**
 * λ, the ResCL regulariser's weight, as the whole lab reads, compares, writes and slides it: one
 * definition used by the engine (point keys, export lookup), the store (URL, events) and the UI.
 *
 * - Range: λ ∈ {0} ∪ [LAMBDA_MIN, LAMBDA_MAX] = {0} ∪ [1e-6, 1e-1].
 * - Identity: two λ name the same network iff they agree to 9 significant digits (`lambdaKey`):
 *   far finer than the 3 significant digits the slider produces, far coarser than float64
 *   arithmetic or decimal-text round trips (but not float32: a λ read back from float32 differs).
 * - Slider: position 0 is λ = 0; positions 1 … SLIDER_MAX are log-uniform from 1e-6 to 1e-1,
 *   STEPS_PER_DECADE per decade, each λ rounded to 3 significant digits (it reads well in the URL).
 */
export const LAMBDA_MIN = 1e-6;
export const LAMBDA_MAX = 1e-1;

/** The canonical text of λ that keys saved points (9 significant digits). */
export function lambdaKey(lambda: number): string {
  return lambda.toPrecision(9);
}

/** True when two λ values name the same network (equal `lambdaKey`). */
export function sameLambda(a: number, b: number): boolean {
  return a === b || lambdaKey(a) === lambdaKey(b);
}

/** Clamps λ to {0} ∪ [1e-6, 1e-1]; values below 1e-6 but above 0 go to 1e-6; NaN and negatives to 0. */
export function clampLambda(value: number): number {
  if (!Number.isFinite(value) || value <= 0) return 0;
  return Math.min(LAMBDA_MAX, Math.max(LAMBDA_MIN, value));
}

/** λ as people read it: "0", "1e-3", "3.16e-4" ('—' for none). */
export function formatLambda(lambda: number | null): string {
  if (lambda === null) return '—';
  if (lambda === 0) return '0';
  const [mant, exp] = lambda.toExponential(2).split('e');
  const m = Number(mant);
  return `${m === 1 ? '1' : String(m)}e${Number(exp)}`;
}

/** Steps per decade of the slider (one arrow key press multiplies λ by 10^(1/STEPS_PER_DECADE)). */
export const STEPS_PER_DECADE = 4;
const DECADES = Math.round(Math.log10(LAMBDA_MAX / LAMBDA_MIN));
/** Largest slider position. */
export const SLIDER_MAX = DECADES * STEPS_PER_DECADE + 1;

/** λ at slider position `pos` (0 → λ = 0). */
export function sliderToLambda(pos: number): number {
  const p = Math.round(Math.min(SLIDER_MAX, Math.max(0, pos)));
  if (p === 0) return 0;
  const exp = Math.log10(LAMBDA_MIN) + (p - 1) / STEPS_PER_DECADE;
  return Number((10 ** exp).toPrecision(3));
}

/** Slider position of λ (continuous; 0 for λ ≤ 0, λ below 1e-6 sits half a step above the "0" notch). */
export function lambdaToSlider(lambda: number): number {
  if (!(lambda > 0)) return 0;
  const pos = 1 + (Math.log10(lambda) - Math.log10(LAMBDA_MIN)) * STEPS_PER_DECADE;
  return Math.min(SLIDER_MAX, Math.max(0.5, pos));
}

/** Nearest slider notch of λ. */
export function nearestNotch(lambda: number): number {
  return Math.round(lambdaToSlider(lambda));
}
