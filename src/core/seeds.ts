/**
 * Aggregation over seeds: mean ± sample standard deviation of trade-off points and of the two
 * criteria, with τ taken from the mean fine-tuning target accuracy over seeds (docs/METHOD.md, "Metrics").
 * Pure functions on plain numbers, for repro and the lab alike.
 */
import { criteriaOf, defaultTau, type TradeoffPoint } from './metrics';

/** mean ± sd of n values; sd is the sample standard deviation (n − 1), 0 for one value. */
export interface MeanSd {
  mean: number;
  sd: number;
  n: number;
}

/** Mean and sample standard deviation of the finite values (NaN mean when there are none). */
export function meanSd(values: readonly number[]): MeanSd {
  const xs = values.filter((v) => Number.isFinite(v));
  const n = xs.length;
  if (n === 0) return { mean: NaN, sd: NaN, n: 0 };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, sd, n };
}

/** One (method, knob) point over seeds: mean ± sd of source, target and all-task average accuracy. */
export interface AggregatePoint {
  method: string;
  knob: number | null;
  source: MeanSd;
  target: MeanSd;
  average: MeanSd;
}

const keyOf = (p: { method: string; knob: number | null }) => `${p.method}|${p.knob}`;

/** Groups the points of every seed by (method, knob), in first-seen order. */
export function aggregatePoints(perSeed: readonly (readonly TradeoffPoint[])[]): AggregatePoint[] {
  const groups = new Map<string, TradeoffPoint[]>();
  for (const points of perSeed) for (const p of points) groups.set(keyOf(p), [...(groups.get(keyOf(p)) ?? []), p]);
  return [...groups.values()].map((ps) => ({
    method: ps[0].method, knob: ps[0].knob,
    source: meanSd(ps.map((p) => p.source)),
    target: meanSd(ps.map((p) => p.target)),
    average: meanSd(ps.map((p) => p.average ?? (p.source + p.target) / 2)),
  }));
}

/** A method's criteria over seeds: τ from the mean FT target; each criterion computed per seed, then mean ± sd. */
export interface AggregateCriteria {
  method: string;
  tau: number;
  maxAvgAcc: MeanSd;
  /** over the seeds where τ was reachable */
  srcAccAtTau: MeanSd;
  /** seeds in which no setting reached τ */
  unreachableSeeds: number;
}

/**
 * Criteria per method over seeds. τ = defaultTau(mean over seeds of FT's target accuracy) unless
 * given; NaN τ (no FT run) makes criterion 2 unreachable everywhere.
 */
export function aggregateCriteria(perSeed: readonly (readonly TradeoffPoint[])[], tau?: number): AggregateCriteria[] {
  const t = tau ?? defaultTau(meanSd(perSeed.flatMap((ps) => ps.filter((p) => p.method === 'ft').map((p) => p.target))).mean);
  const methods = [...new Set(perSeed.flatMap((ps) => ps.map((p) => p.method)))];
  return methods.map((method) => {
    const per = perSeed.map((ps) => ps.filter((p) => p.method === method)).filter((ps) => ps.length).map((ps) => criteriaOf(ps, t));
    const reached = per.map((c) => c.srcAccAtTau).filter((v): v is number => v !== null);
    return {
      method, tau: t,
      maxAvgAcc: meanSd(per.map((c) => c.maxAvgAcc)),
      srcAccAtTau: meanSd(reached),
      unreachableSeeds: per.length - reached.length,
    };
  });
}

/** "mean ± sd" in percent with `digits` (just the mean for one seed; "—" when undefined). */
export function formatMeanSd(m: MeanSd, digits = 1): string {
  if (m.n === 0 || !Number.isFinite(m.mean)) return '—';
  return m.n > 1 ? `${(m.mean * 100).toFixed(digits)} ± ${(m.sd * 100).toFixed(digits)}` : (m.mean * 100).toFixed(digits);
}
