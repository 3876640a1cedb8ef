import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type TradeoffPointEvent } from './protocol';
import { SeedClock, SeedResults } from './seedRuns';

function point(method: TradeoffPointEvent['method'], knob: number | null, source: number, target: number, paramCount = 10): TradeoffPointEvent {
  return {
    type: 'tradeoffPoint', v: PROTOCOL_VERSION, method, knob, source, target, average: (source + target) / 2,
    accByTask: { a: source, b: target }, accMatrix: [[0.99], [source, target]], paramCount,
  };
}

describe('SeedResults', () => {
  it('reports a point as the mean over the seeds that finished it, with the sample sd', () => {
    const r = new SeedResults([1, 2, 3]);
    r.set(1, 'ft|-', point('ft', null, 0.2, 0.9));
    let e = r.pointEvent('ft|-');
    expect(e.spread).toEqual({ seeds: 1, source: 0, target: 0, average: 0 });
    expect(e.source).toBe(0.2);
    r.set(2, 'ft|-', point('ft', null, 0.4, 0.8, 11));
    e = r.pointEvent('ft|-');
    expect(e.source).toBeCloseTo(0.3, 12);
    expect(e.target).toBeCloseTo(0.85, 12);
    // sample sd of {0.2, 0.4} = 0.1414…
    expect(e.spread?.source).toBeCloseTo(Math.SQRT2 / 10, 12);
    expect(e.spread?.target).toBeCloseTo(Math.SQRT2 / 20, 12);
    expect(e.spread?.seeds).toBe(2);
    expect(e.accByTask.a).toBeCloseTo(0.3, 12);
    expect(e.accMatrix[1][0]).toBeCloseTo(0.3, 12);
    expect(e.accMatrix[0][0]).toBeCloseTo(0.99, 12);
    // the network's own facts are the last seed's
    expect(e.paramCount).toBe(11);
    expect(r.keys()).toEqual(['ft|-']);
    // the metric suite per seed, then mean ± sd: BWT = R[1][0] − R[0][0] = 0.2 − 0.99, 0.4 − 0.99
    expect(e.metrics?.bwt?.value).toBeCloseTo(0.3 - 0.99, 12);
    expect(e.metrics?.bwt?.sd).toBeCloseTo(Math.SQRT2 / 10, 12);
    expect(e.metrics?.bwt?.seeds).toBe(2);
    expect(e.metrics?.plasticity?.value).toBeCloseTo(0.85, 12);
    // FWT needs single-task references the lab does not train: undefined, with why
    expect(e.metrics?.fwt).toEqual({ value: null, why: expect.stringMatching(/single-task reference/) });
  });

  it('gives the criteria over seeds (τ from the mean FT target)', () => {
    const r = new SeedResults([1, 2]);
    r.set(1, 'ft|-', point('ft', null, 0.2, 0.9));
    r.set(2, 'ft|-', point('ft', null, 0.4, 0.94));
    r.set(1, 'rescl|1e-3', point('rescl', 1e-3, 0.8, 0.915));
    const c = r.criteriaEvent();
    expect(c.tauFrom).toBe('ft');
    expect(c.byMethod.rescl?.tau).toBeCloseTo(0.91, 12);
    expect(c.byMethod.rescl?.seeds).toBe(1);
    expect(c.byMethod.ft?.seeds).toBe(2);
  });
});

describe('SeedClock', () => {
  it('knows only the stage ETA during the first of several seeds, then adds the measured time per seed', () => {
    let t = 0;
    const clock = new SeedClock(3, () => t);
    clock.startSeed();
    expect(clock.runEtaMs(0, 500)).toBeUndefined();
    t = 1000;
    clock.finishSeed();
    clock.startSeed();
    t = 1200;
    // seed 2 of 3: 800 ms left of it (1000 per seed), then one more seed
    expect(clock.runEtaMs(1, 300)).toBe(800 + 1000);
    // a stage ETA longer than the estimate wins
    expect(clock.runEtaMs(1, 900)).toBe(900 + 1000);
  });

  it('with one seed is the stage ETA; a seed that only restored results is not timed', () => {
    const one = new SeedClock(1, () => 0);
    one.startSeed();
    expect(one.runEtaMs(0, 42)).toBe(42);
    let t = 0;
    const two = new SeedClock(2, () => t);
    two.startSeed();
    t = 5;
    two.finishSeed(false);
    two.startSeed();
    expect(two.runEtaMs(1, 7)).toBe(7);
  });
});
