/**
 * Reporting: turns what the experiment produces into the protocol's small events: α histograms,
 * fold reports, the criteria over all finished points, and the throttle that keeps progress and
 * live evaluation cheap (progress ≤ 1000/reportIntervalMs per second; live evaluation every
 * `evalEveryMs` and at most ~1/20 of the time: each waits 20x the last one's cost).
 */
import type { FoldReport } from '../core/fold';
import { criteriaOf, defaultTau } from '../core/metrics';
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
 * The criteria of every method over the finished points. τ comes from fine-tuning's target
 * accuracy, else ResCL at λ = 0, else the best target accuracy seen (`tauFrom` says which).
 * Precondition: `points` is not empty.
 */
export function criteriaEvent(points: readonly TradeoffPointEvent[]): CriteriaEvent {
  const ft = points.find((p) => p.method === 'ft');
  const r0 = points.find((p) => p.method === 'rescl' && p.knob === 0);
  let tau: number;
  let tauFrom: CriteriaEvent['tauFrom'];
  if (ft) { tau = defaultTau(ft.target); tauFrom = 'ft'; } else if (r0) { tau = defaultTau(r0.target); tauFrom = 'rescl-lambda0'; } else {
    tau = defaultTau(Math.max(...points.map((p) => p.target))); tauFrom = 'best-target';
  }
  const byMethod: CriteriaEvent['byMethod'] = {};
  for (const m of new Set(points.map((p) => p.method))) byMethod[m] = criteriaOf(points.filter((p) => p.method === m), tau);
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
