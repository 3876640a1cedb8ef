/**
 * A run over several training seeds (RunConfig.seeds): the finished points of every seed, and the
 * events that report them as mean ± sample sd (core/seeds.ts); and the clock that estimates the
 * time left for all seeds. One seed is the same code with lists of one (sd 0).
 */
import { METRIC_NAMES, metricSuite, type MetricName } from '../core/metricSuite';
import { meanSd } from '../core/seeds';
import { PROTOCOL_VERSION, type CriteriaEvent, type PointMetric, type TradeoffPointEvent } from './protocol';
import { criteriaEvent } from './reporting';

/** Element-wise mean of equally shaped rows (rows of unequal length: each entry over the seeds that have it). */
function meanMatrix(ms: readonly (readonly (readonly number[])[])[]): number[][] {
  const rows = Math.max(...ms.map((m) => m.length));
  return Array.from({ length: rows }, (_, i) => {
    const cols = Math.max(...ms.map((m) => m[i]?.length ?? 0));
    return Array.from({ length: cols }, (_, j) => meanSd(ms.map((m) => m[i]?.[j] ?? NaN)).mean);
  });
}

/** The metric suite of each seed's matrix, as mean ± sample sd over the seeds where a metric is defined. */
export function metricsOverSeeds(matrices: readonly (readonly (readonly number[])[])[]): Partial<Record<MetricName, PointMetric>> {
  const suites = matrices.map((m) => metricSuite(m.map((row) => [...row])));
  const out: Partial<Record<MetricName, PointMetric>> = {};
  for (const name of METRIC_NAMES) {
    const values = suites.map((s) => s[name].value).filter((v): v is number => v !== null);
    const m = meanSd(values);
    out[name] = values.length ? { value: m.mean, sd: m.sd, seeds: m.n } : { value: null, why: suites[0]?.[name].why ?? 'no matrix' };
  }
  return out;
}

/** The finished points of each seed of a run, keyed like the session's points (`pointKey`). */
export class SeedResults {
  private readonly perSeed = new Map<number, Map<string, TradeoffPointEvent>>();

  constructor(readonly seeds: readonly number[]) {
    for (const s of seeds) this.perSeed.set(s, new Map());
  }

  /** Records seed `seed`'s finished point `key` (replacing an earlier one). */
  set(seed: number, key: string, event: TradeoffPointEvent): void {
    this.perSeed.get(seed)?.set(key, event);
  }

  /** The keys finished by at least one seed, in first-seen order. */
  keys(): string[] {
    return [...new Set([...this.perSeed.values()].flatMap((m) => [...m.keys()]))];
  }

  /**
   * Point `key` over the seeds that finished it: source, target, average, accByTask and accMatrix
   * are means, `spread` their sample sd; the rest (parameters, fold check, α) is the last seed's
   * network. Precondition: some seed finished `key`.
   */
  pointEvent(key: string): TradeoffPointEvent {
    const events = this.seeds.map((s) => this.perSeed.get(s)?.get(key)).filter((e): e is TradeoffPointEvent => e !== undefined);
    const last = events[events.length - 1];
    const source = meanSd(events.map((e) => e.source));
    const target = meanSd(events.map((e) => e.target));
    const average = meanSd(events.map((e) => e.average ?? (e.source + e.target) / 2));
    const accByTask: Record<string, number> = {};
    for (const id of Object.keys(last.accByTask)) accByTask[id] = meanSd(events.map((e) => e.accByTask[id] ?? NaN)).mean;
    return {
      ...last, type: 'tradeoffPoint', v: PROTOCOL_VERSION,
      source: source.mean, target: target.mean, average: average.mean, accByTask, accMatrix: meanMatrix(events.map((e) => e.accMatrix)),
      spread: { seeds: events.length, source: source.sd, target: target.sd, average: average.sd },
      metrics: metricsOverSeeds(events.map((e) => e.accMatrix)),
    };
  }

  /** The criteria over every seed's points (τ from the mean over seeds: reporting.ts). */
  criteriaEvent(): CriteriaEvent {
    return criteriaEvent(this.seeds.map((s) => [...(this.perSeed.get(s)?.values() ?? [])]).filter((ps) => ps.length > 0));
  }
}

/**
 * Time left for a run over `count` seeds: while the first seed trains only its current stage's
 * ETA is known; once a seed has finished, the mean measured time per seed gives the rest.
 */
export class SeedClock {
  private readonly finished: number[] = [];
  private started = 0;

  constructor(readonly count: number, private readonly now: () => number = () => performance.now()) {}

  startSeed(): void {
    this.started = this.now();
  }

  /** Records the seed that started last as finished; `trained`: false when it only restored saved results (not timed). */
  finishSeed(trained = true): void {
    if (trained) this.finished.push(this.now() - this.started);
  }

  /** ms left for the whole run while seed `index` is at a stage with `stageEtaMs` left; undefined when not known yet. */
  runEtaMs(index: number, stageEtaMs: number): number | undefined {
    const after = this.count - index - 1;
    if (this.finished.length === 0) return after === 0 ? stageEtaMs : undefined;
    const perSeed = this.finished.reduce((a, b) => a + b, 0) / this.finished.length;
    const current = Math.max(stageEtaMs, perSeed - (this.now() - this.started));
    return current + after * perSeed;
  }
}
