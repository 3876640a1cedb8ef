import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { syntheticTask } from '../testing/synthetic';
import { disposeNet } from './nets';
import { finishRun } from '../testing/experiment';
import { Experiment, METHOD_NAMES } from './experiment';

describe('Experiment (synthetic, three tasks)', () => {
  it('runs every method over a three-task chain, folds exactly, and leaks nothing', async () => {
    const tasks = [syntheticTask('a', 4, 1), syntheticTask('b', 3, 5, true), syntheticTask('c', 2, 9)];
    const exp = new Experiment(tasks, { net: 'mlp', stage: { epochs: 1, batchSize: 64, learningRate: 3e-3, weightDecay: 1e-4, seed: 1, reportIntervalMs: 0 }, headWarmupSteps: 1, fisherSamples: 8 });
    const before = tf.memory().numTensors;
    for (const method of METHOD_NAMES) {
      const r = await finishRun(exp.runMethod(method, method === 'rescl' ? 1e-3 : method === 'lwf' ? 1 : method === 'ewc' ? 10 : null));
      expect(r.accMatrix.length).toBe(3);
      expect(r.accMatrix[2].length).toBe(3);
      expect(Object.keys(r.accByTask)).toEqual(['a', 'b', 'c']);
      expect(r.net.heads.map((h) => h.taskId)).toEqual(['a', 'b', 'c']);
      if (method === 'rescl') {
        expect(r.fold?.length).toBe(2);
        for (const f of r.fold ?? []) expect(f.maxAbsDiff).toBeLessThanOrEqual(1e-4 * Math.max(1, f.logitScale));
        // the deployed network never grows beyond one head per task
        const ft = await finishRun(exp.runMethod('ft'));
        expect(r.paramCount).toBe(ft.paramCount);
        disposeNet(ft.net);
      }
      disposeNet(r.net);
    }
    // the shared source network and caches were created during the first run: compare after a second run
    const again = tf.memory().numTensors;
    disposeNet((await finishRun(exp.runMethod('rescl', 0))).net);
    disposeNet((await finishRun(exp.runMethod('ewc', 10))).net);
    expect(tf.memory().numTensors).toBe(again);
    exp.dispose();
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before);
  }, 480_000); // the heaviest unit test: ~45 s alone (before equal budgets doubled the baselines), minutes when the machine is shared
});
