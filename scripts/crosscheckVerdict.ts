/**
 * The crosscheck's agreement rule (docs/CROSSCHECK.md, "The verdict rule"), as pure functions of
 * per-step losses and final accuracies, so that the rule is unit-tested with hand-made numbers
 * (crosscheckVerdict.test.ts) apart from the slow run in scripts/crosscheck.ts.
 *
 * Distance d(a, b) between two runs = max over the first n steps of |a_t − b_t| / |b_t| (b the
 * reference). The float32 replays R_0..R_K are the same stage in PyTorch float32 with other
 * summation orders (R_0 the trace's batch order, then each batch reversed, then K seeded
 * within-batch permutations): each is an honest float32 run, so their distances from the float64
 * replay and from each other measure how far float32 rounding alone moves this stage.
 *
 *   floor s = max( max_i d(R_i, f64), max_{i<j} d(R_i, R_j) )
 *   exact            d(lab, R_0) ≤ rtol and every |acc_lab − acc_R0| ≤ accTol
 *   float32-limited  s > rtol (no float32 run can meet rtol here) and d(lab, f64) ≤ FLOOR_FACTOR·s
 *                    and every |acc_lab − acc_f64| ≤ max(accTol, FLOOR_FACTOR·(accuracy spread of
 *                    f64 and all R_i))
 *   fail             otherwise (also when the lab ran another number of steps)
 *
 * Leave-one-out check of the factor: each R_i is judged by the float32-limited test against the
 * floor of the other replays; a replay failing it would be a known-good float32 run the rule
 * rejects, i.e. FLOOR_FACTOR too tight for this stage. It is recorded, not used by the verdict.
 */

/** A run's loss per step and final test accuracy per head, in percent. */
export interface Run {
  losses: number[];
  acc: Record<string, number>;
}

/** A float32 replay, named by its batch order ('forward', 'reversed', 'perm:1', ...). */
export interface NamedRun extends Run {
  name: string;
}

/** The float32-limited test's margin over the measured floor (unchanged since the rule's first version). */
export const FLOOR_FACTOR = 2;

export type Verdict = 'exact' | 'float32-limited' | 'fail';

/** Largest |a_t − b_t|/|b_t| over the first n steps, and its 1-based step (0 when n is 0). */
export function maxRelDiff(a: readonly number[], b: readonly number[], n: number): { max: number; step: number } {
  let max = 0;
  let step = 0;
  for (let i = 0; i < n; i++) {
    const rel = Math.abs(a[i] - b[i]) / Math.max(1e-12, Math.abs(b[i]));
    if (!(rel <= max)) { max = rel; step = i + 1; } // NaN counts as the largest
  }
  return { max, step };
}

/** 1-based first step whose relative difference exceeds rtol (a.length + 1 when none does). */
export function firstOver(a: readonly number[], b: readonly number[], rtol: number): number {
  const i = a.findIndex((x, k) => !(Math.abs(x - b[k]) / Math.max(1e-12, Math.abs(b[k])) <= rtol));
  return i < 0 ? a.length + 1 : i + 1;
}

/** The float32 noise floor of one stage, measured from its replays. */
export interface Float32Floor {
  /** each replay's distance from float64, in replay order */
  vsFloat64: { name: string; d: number }[];
  /** the largest distance between two replays (d(a, b), b the reference), and which two */
  pairMax: { d: number; a: string; b: string };
  /** s = max(every vsFloat64, pairMax.d) */
  spread: number;
  /** which distance set s, e.g. 'perm:3 vs float64' */
  spreadFrom: string;
  /** per head: max − min of the float64 and every replay's accuracy, in points */
  accSpread: Record<string, number>;
  /**
   * per replay: its distance from float64 over the floor of the other replays (> FLOOR_FACTOR: the
   * rule would fail this float32 run), and whether its accuracies pass the float32-limited test
   * against the others
   */
  leaveOneOut: { name: string; ratio: number; accOk: boolean }[];
}

const spreadOf = (xs: number[]) => Math.max(...xs) - Math.min(...xs);

/** Loss floor of a set of replays: largest distance from float64 or between two of them. */
function lossFloor(float64: Run, replays: readonly NamedRun[], n: number): Pick<Float32Floor, 'vsFloat64' | 'pairMax' | 'spread' | 'spreadFrom'> {
  const vsFloat64 = replays.map((r) => ({ name: r.name, d: maxRelDiff(r.losses, float64.losses, n).max }));
  let pairMax = { d: 0, a: '', b: '' };
  for (const [i, a] of replays.entries()) {
    for (const b of replays.slice(i + 1)) {
      const d = Math.max(maxRelDiff(a.losses, b.losses, n).max, maxRelDiff(b.losses, a.losses, n).max);
      if (!(d <= pairMax.d)) pairMax = { d, a: a.name, b: b.name };
    }
  }
  const worst = vsFloat64.reduce((m, x) => (x.d > m.d ? x : m), { name: '', d: -1 });
  const fromPair = pairMax.d > worst.d;
  return {
    vsFloat64, pairMax, spread: Math.max(pairMax.d, worst.d, 0),
    spreadFrom: fromPair ? `${pairMax.a} vs ${pairMax.b}` : `${worst.name} vs float64`,
  };
}

/** Per head, the accuracy spread of float64 and the replays, in points. */
function accuracySpread(float64: Run, replays: readonly NamedRun[]): Record<string, number> {
  return Object.fromEntries(Object.keys(float64.acc).map((id) => [id, spreadOf([float64.acc[id], ...replays.map((r) => r.acc[id])])]));
}

/** Whether every accuracy of `run` is within max(accTol, FLOOR_FACTOR·spread) of float64's. */
function accuraciesWithin(run: Run, float64: Run, accSpread: Record<string, number>, accTol: number): boolean {
  return Object.keys(float64.acc).every((id) => Math.abs(run.acc[id] - float64.acc[id]) <= Math.max(accTol, FLOOR_FACTOR * accSpread[id]) + 1e-9);
}

/**
 * The float32 floor of a stage from its float64 replay and its float32 replays (at least one), over
 * the first n steps; accTol (points) is the rule's, for the leave-one-out accuracy test.
 */
export function float32Floor(float64: Run, replays: readonly NamedRun[], n: number, accTol: number): Float32Floor {
  if (replays.length === 0) throw new Error('float32Floor needs at least one float32 replay');
  const accSpread = accuracySpread(float64, replays);
  const leaveOneOut = replays.length < 2 ? [] : replays.map((r, i) => {
    const others = replays.filter((_, j) => j !== i);
    const floor = lossFloor(float64, others, n).spread;
    return {
      name: r.name,
      ratio: maxRelDiff(r.losses, float64.losses, n).max / Math.max(1e-30, floor),
      accOk: accuraciesWithin(r, float64, accuracySpread(float64, others), accTol),
    };
  });
  return { ...lossFloor(float64, replays, n), accSpread, leaveOneOut };
}

/** One stage compared: the lab against the float32 replays and the float64 replay. */
export interface StageJudgement {
  steps: number;
  /** steps compared: min(options.steps, steps) */
  compared: number;
  /** lab vs the forward-order float32 replay (R_0): largest relative loss difference and its step */
  maxRel: number;
  worstStep: number;
  /** first step over rtol from R_0 (steps + 1 when none) */
  firstOverRtol: number;
  labVsFloat64: number;
  floor: Float32Floor;
  /** per head: lab, float64, and each replay's accuracy (%), replays in replay order */
  acc: Record<string, { lab: number; float64: number; replays: number[] }>;
  verdict: Verdict;
  /** why, in one line */
  reason: string;
}

/**
 * The verdict for one stage (the rule in this file's header). `replays[0]` is the float32 replay in
 * the trace's batch order, the one 'exact' compares against; rtol is relative loss, accTol points.
 */
export function judgeStage(
  lab: Run, float64: Run, replays: readonly NamedRun[], options: { rtol: number; accTol: number; steps: number },
): StageJudgement {
  const { rtol, accTol } = options;
  if (replays.length === 0) throw new Error('judgeStage needs at least one float32 replay');
  const r0 = replays[0];
  const n = Math.min(options.steps, lab.losses.length, r0.losses.length, float64.losses.length);
  const first = maxRelDiff(lab.losses, r0.losses, n);
  const floor = float32Floor(float64, replays, n, accTol);
  const labVsFloat64 = maxRelDiff(lab.losses, float64.losses, n).max;
  const acc = Object.fromEntries(Object.keys(lab.acc).map((id) => [id, { lab: lab.acc[id], float64: float64.acc[id], replays: replays.map((r) => r.acc[id]) }]));
  const base = { steps: lab.losses.length, compared: n, maxRel: first.max, worstStep: first.step, firstOverRtol: firstOver(lab.losses, r0.losses, rtol), labVsFloat64, floor, acc };
  const e = (x: number) => x.toExponential(2);
  const lengths = [float64, ...replays].map((r) => r.losses.length);
  if (lengths.some((l) => l !== lab.losses.length)) {
    return { ...base, verdict: 'fail', reason: `the lab ran ${lab.losses.length} steps, the replays ${lengths.join('/')}` };
  }
  if (first.max <= rtol && Object.keys(lab.acc).every((id) => Math.abs(lab.acc[id] - r0.acc[id]) <= accTol + 1e-9)) {
    return { ...base, verdict: 'exact', reason: `every loss within ${rtol} of PyTorch float32, every accuracy within ${accTol} point` };
  }
  if (!(floor.spread > rtol)) {
    return { ...base, verdict: 'fail', reason: `the float32 replays agree to ${e(floor.spread)} ≤ ${rtol}, the lab is ${e(first.max)} from them (or an accuracy is off by more than ${accTol})` };
  }
  const lossOk = labVsFloat64 <= FLOOR_FACTOR * floor.spread;
  const accOk = accuraciesWithin(lab, float64, floor.accSpread, accTol);
  const sides = `lab vs float64 ${e(labVsFloat64)} ${lossOk ? '≤' : '>'} ${FLOOR_FACTOR} × floor ${e(floor.spread)} (${floor.spreadFrom})`;
  if (lossOk && accOk) return { ...base, verdict: 'float32-limited', reason: `${sides}; accuracies within tolerance of float64` };
  return { ...base, verdict: 'fail', reason: lossOk ? `${sides}, but an accuracy is off float64 by more than max(${accTol}, ${FLOOR_FACTOR} × the replays' spread)` : sides };
}
