import { describe, expect, it } from 'vitest';
import { nearestState, runPlan } from './plan';
import { PROTOCOL_VERSION, type RunConfig } from './protocol';
import type { PointRecord } from './sessions';

const CONFIG: RunConfig = {
  net: 'mlp', epochs: 1, batchSize: 64, learningRate: 2e-3, alphaLearningRate: 2e-2, weightDecay: 1e-4, headWarmupSteps: 1,
  seed: 1, lambda: 1e-3, methods: ['rescl', 'ft', 'lwf'], sweep: { rescl: [0, 1e-2], lwf: [0.5, 1] },
};

describe('runPlan', () => {
  it('rescl: one live network at the run\'s λ; trainLambda: the same, not live', () => {
    expect(runPlan({ config: CONFIG, mode: 'rescl' }, false)).toEqual([{ method: 'rescl', knob: 1e-3, live: true }]);
    expect(runPlan({ config: CONFIG, mode: 'rescl', knob: 5 }, true)).toEqual([{ method: 'rescl', knob: 5, live: false }]);
  });

  it('sweep: every sweep λ; baseline: the method at its first knob (or none)', () => {
    expect(runPlan({ config: CONFIG, mode: 'sweep' }, false).map((i) => i.knob)).toEqual([0, 1e-2]);
    expect(runPlan({ config: CONFIG, mode: 'baseline', method: 'lwf' }, false)).toEqual([{ method: 'lwf', knob: 0.5, live: false }]);
    expect(runPlan({ config: CONFIG, mode: 'baseline', method: 'ft' }, false)).toEqual([{ method: 'ft', knob: null, live: false }]);
  });

  it('full: live ResCL first, then the ResCL sweep, then each other method at each knob', () => {
    const plan = runPlan({ config: CONFIG, mode: 'full' }, false);
    expect(plan.map((i) => `${i.method}:${i.knob}:${i.live}`)).toEqual([
      'rescl:0.001:true', 'rescl:0:false', 'rescl:0.01:false', 'ft:null:false', 'lwf:0.5:false', 'lwf:1:false',
    ]);
  });
});

describe('nearestState', () => {
  const rec = (knob: number, tag: number): PointRecord => ({
    event: { type: 'tradeoffPoint', v: PROTOCOL_VERSION, method: 'rescl', knob, accByTask: {}, source: 0, target: 0, accMatrix: [], paramCount: 0 },
    state: { tag } as never,
  });

  it('picks the ResCL point nearest in log λ and ignores points without a state', () => {
    const points = [rec(1e-4, 1), rec(1e-1, 2), { event: { ...rec(1e-2, 3).event } }];
    expect(nearestState(points, 2e-2)).toEqual({ tag: 2 });
    expect(nearestState(points, 1e-5)).toEqual({ tag: 1 });
    expect(nearestState([], 1)).toBeUndefined();
  });
});
