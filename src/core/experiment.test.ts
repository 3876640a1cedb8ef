import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScenarioTasks } from '../testing/realData';
import { syntheticTask } from '../testing/synthetic';
import { disposeNet } from './nets';
import { Experiment, METHOD_NAMES, type ExperimentEvent, type RunResult } from './experiment';
import type { TaskData } from './types';

async function finish(gen: AsyncGenerator<ExperimentEvent, void, undefined>): Promise<RunResult> {
  let result: RunResult | null = null;
  for await (const e of gen) if (e.type === 'result') result = e.result;
  if (!result) throw new Error('no result');
  return result;
}

describe('Experiment (synthetic, three tasks)', () => {
  it('runs every method over a three-task chain, folds exactly, and leaks nothing', async () => {
    const tasks = [syntheticTask('a', 4, 1), syntheticTask('b', 3, 5, true), syntheticTask('c', 2, 9)];
    const exp = new Experiment(tasks, { net: 'mlp', stage: { epochs: 1, batchSize: 64, learningRate: 3e-3, weightDecay: 1e-4, seed: 1, reportIntervalMs: 0 }, headWarmupSteps: 1, fisherSamples: 8 });
    const before = tf.memory().numTensors;
    for (const method of METHOD_NAMES) {
      const r = await finish(exp.runMethod(method, method === 'rescl' ? 1e-3 : method === 'lwf' ? 1 : method === 'ewc' ? 10 : null));
      expect(r.accMatrix.length).toBe(3);
      expect(r.accMatrix[2].length).toBe(3);
      expect(Object.keys(r.accByTask)).toEqual(['a', 'b', 'c']);
      expect(r.net.heads.map((h) => h.taskId)).toEqual(['a', 'b', 'c']);
      if (method === 'rescl') {
        expect(r.fold?.length).toBe(2);
        for (const f of r.fold ?? []) expect(f.maxAbsDiff).toBeLessThanOrEqual(1e-4 * Math.max(1, f.logitScale));
        // the deployed network never grows beyond one head per task
        const ft = await finish(exp.runMethod('ft'));
        expect(r.paramCount).toBe(ft.paramCount);
        disposeNet(ft.net);
      }
      disposeNet(r.net);
    }
    // the shared source network and caches were created during the first run: compare after a second run
    const again = tf.memory().numTensors;
    disposeNet((await finish(exp.runMethod('rescl', 0))).net);
    disposeNet((await finish(exp.runMethod('ewc', 10))).net);
    expect(tf.memory().numTensors).toBe(again);
    exp.dispose();
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before);
  });
});

describe('ResCL limits on real data (split-mnist, mlp, 1000 images per task)', () => {
  let tasks: TaskData[];
  let exp: Experiment;
  beforeAll(async () => {
    tasks = await loadScenarioTasks('split-mnist', { seed: 1, trainLimit: 1000, testLimit: 1000 });
    exp = new Experiment(tasks, { net: 'mlp', seed: 1, stage: { epochs: 8, batchSize: 64, learningRate: 1e-3, weightDecay: 1e-4, seed: 1, reportIntervalMs: 1000 }, alphaLearningRate: 1e-2 });
  });
  afterAll(() => exp.dispose());

  it('λ very large keeps the source accuracy within 1 point; λ = 0 reaches fine-tuning\'s target accuracy − 2 points', async () => {
    const ft = await finish(exp.runMethod('ft'));
    const keep = await finish(exp.runMethod('rescl', 10));
    const free = await finish(exp.runMethod('rescl', 0));
    const source = exp.sourceTestAccuracy;
    const [a, b] = tasks.map((t) => t.id);
    expect(source).toBeGreaterThan(0.9);
    expect(keep.accByTask[a]).toBeGreaterThanOrEqual(source - 0.01);
    expect(free.accByTask[b]).toBeGreaterThanOrEqual(ft.accByTask[b] - 0.02);
    // and fine-tuning forgets, which is what makes the test meaningful
    expect(ft.accByTask[a]).toBeLessThan(source);
    [ft, keep, free].forEach((r) => disposeNet(r.net));
  });
});
