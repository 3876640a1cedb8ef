import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { syntheticTask } from '../testing/synthetic';
import { expectArraysClose } from '../testing/tensors';
import { readAlphas } from './combine';
import { Experiment, type RunResult } from './experiment';
import { disposeNet } from './nets';

describe('Experiment: ResCL warm start and live λ', () => {
  it('starts the combined stage from another λ\'s α and θ_t, reads λ at every step, and leaks nothing', async () => {
    const exp = new Experiment([syntheticTask('a', 4, 1), syntheticTask('b', 3, 5, true)], {
      net: 'mlp', stage: { epochs: 1, batchSize: 64, learningRate: 3e-3, weightDecay: 1e-4, seed: 1, reportIntervalMs: 0 }, headWarmupSteps: 1,
    });
    let first: RunResult | null = null;
    for await (const e of exp.runMethod('rescl', 1e-3)) if (e.type === 'result') first = e.result;
    if (!first?.combinedState) throw new Error('no combined state');
    const state = first.combinedState;
    expect(state.alphas.length).toBe(2);
    expect(state.target.heads.map((h) => h.taskId)).toEqual(['a', 'b']);
    disposeNet(first.net);
    const before = tf.memory().numTensors;
    let calls = 0;
    let second: RunResult | null = null;
    for await (const e of exp.runMethod('rescl', 1e-2, { warmStart: state, lambda: () => { calls += 1; return 1e-2; } })) {
      if (e.type === 'combined') {
        const start = await readAlphas(e.combined);
        expectArraysClose(start[0].alphaSource, state.alphas[0].alphaSource, 0, 0);
        expectArraysClose(start[1].alphaTarget, state.alphas[1].alphaTarget, 0, 0);
      }
      if (e.type === 'result') second = e.result;
    }
    expect(calls).toBeGreaterThanOrEqual(4); // 256 / 64 steps, λ read at each
    expect(second?.knob).toBe(1e-2);
    if (second) disposeNet(second.net);
    expect(tf.memory().numTensors).toBe(before);
    exp.dispose();
  });
});
