/**
 * Reporting: turns what the experiment produces into the protocol's small events: α histograms,
 * fold reports, the criteria over all finished points, and the throttle that keeps progress and
 * live evaluation cheap (progress ≤ 1000/reportIntervalMs per second; live evaluation every
 * `evalEveryMs` and at most ~1/20 of the time: each waits 20x the last one's cost).
 */
import type { FoldReport } from '../core/fold';
import { criterion2, defaultTau } from '../core/metrics';
import type { MethodName } from '../core/names';
import { aggregateCriteria, meanSd } from '../core/seeds';
import {
  ALPHA_HISTOGRAM_BINS, ALPHA_HISTOGRAM_RANGE, PROTOCOL_VERSION,
  type AlphaLayerHistogram, type CriteriaEvent, type FoldReportEvent, type TradeoffPointEvent,
} from './protocol';

/** Histogram of α values over ALPHA_HISTOGRAM_RANGE in ALPHA_HISTOGRAM_BINS fixed bins (outside → end bins). */
export function alphaHistogram(values: Float32Array): { counts: number[]; stats: { mean: number; min: number; max: number } } {
  const [lo, hi] = ALPHA_HISTOGRAM_RANGE;
  const counts = new Array<number>(ALPHA_HISTOGRAM_BINS).fill(0);
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    const bin = Math.min(ALPHA_HISTOGRAM_BINS - 1, Math.max(0, Math.floor(((v - lo) / (hi - lo)) * ALPHA_HISTOGRAM_BINS)));
    counts[bin] += 1;
    sum += v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return { counts, stats: { mean: values.length ? sum / values.length : NaN, min, max } };
}

/** One histogram pair (α_s, α_t) per combined unit. */
export function histograms(alphas: { unit: string; alphaSource: Float32Array; alphaTarget: Float32Array }[]): AlphaLayerHistogram[] {
  return alphas.map((a) => {
    const s = alphaHistogram(a.alphaSource);
    const t = alphaHistogram(a.alphaTarget);
    return { unit: a.unit, alphaSource: s.counts, alphaTarget: t.counts, statsSource: s.stats, statsTarget: t.stats };
  });
}

export function foldReportEvent(lambda: number, fold: FoldReport): FoldReportEvent {
  return { type: 'foldReport', v: PROTOCOL_VERSION, lambda, maxAbsDiff: fold.maxAbsDiff, logitScale: fold.logitScale, paramCount: fold.paramCount };
}

/**
 * The criteria of every method over the finished points of each seed (`perSeed[i]`: seed i's
 * points; one seed is a list of one). τ comes from fine-tuning's target accuracy (its mean over
 * seeds), else ResCL at λ = 0, else the best target accuracy seen (`tauFrom` says which); each
 * criterion is computed per seed at that τ, then mean ± sample sd (core/seeds.ts).
 * Precondition: some seed has a point.
 */
export function criteriaEvent(perSeed: readonly (readonly TradeoffPointEvent[])[]): CriteriaEvent {
  const all = perSeed.flat();
  const meanTarget = (ps: TradeoffPointEvent[]) => meanSd(ps.map((p) => p.target)).mean;
  const ft = all.filter((p) => p.method === 'ft');
  const r0 = all.filter((p) => p.method === 'rescl' && p.knob === 0);
  let tau: number;
  let tauFrom: CriteriaEvent['tauFrom'];
  if (ft.length) { tau = defaultTau(meanTarget(ft)); tauFrom = 'ft'; } else if (r0.length) { tau = defaultTau(meanTarget(r0)); tauFrom = 'rescl-lambda0'; } else {
    tau = defaultTau(Math.max(...all.map((p) => p.target)));
    tauFrom = 'best-target';
  }
  const byMethod: CriteriaEvent['byMethod'] = {};
  for (const c of aggregateCriteria(perSeed, tau)) {
    byMethod[c.method as MethodName] = {
      maxAvgAcc: c.maxAvgAcc.mean, tau, srcAccAtTau: c.srcAccAtTau.n > 0 ? c.srcAccAtTau.mean : null,
      seeds: perSeed.filter((ps) => ps.some((p) => p.method === c.method)).length,
      maxAvgAccSd: c.maxAvgAcc.sd, unreachableSeeds: c.unreachableSeeds,
      ...(c.srcAccAtTau.n > 0
        ? { srcAccAtTauSd: c.srcAccAtTau.sd }
        : { srcAccAtTauWhy: criterion2(all.filter((p) => p.method === c.method), tau).why ?? 'no setting reaches τ in any seed' }),
    };
  }
  return { type: 'criteria', v: PROTOCOL_VERSION, byMethod, tauFrom };
}

/** Decides when a progress event and a live evaluation are due. */
export class ReportThrottle {
  private lastPost = -Infinity;
  private lastEval = -Infinity;
  private evalCost = 0;

  constructor(private readonly reportIntervalMs: number, private readonly evalEveryMs: number) {}

  /** True if a progress event should go out now (always for `force`: the stage's last step, or stepping). */
  progressDue(now: number, force: boolean): boolean {
    if (!force && now - this.lastPost < this.reportIntervalMs) return false;
    this.lastPost = now;
    return true;
  }

  /** True if a live evaluation should run now (always for `force`). */
  evalDue(now: number, force: boolean): boolean {
    return force || now - this.lastEval >= Math.max(this.evalEveryMs, 20 * this.evalCost);
  }

  /** Records a live evaluation that ran from `started` to `ended` (ms). */
  evaluated(started: number, ended: number): void {
    this.lastEval = ended;
    this.evalCost = ended - started;
  }
}
