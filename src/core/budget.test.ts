import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { syntheticTask } from '../testing/synthetic';
import { Experiment, type Budget, type ExperimentEvent, type MethodName, type RunResult } from './experiment';
import { disposeNet } from './nets';

/** Target-task training steps per task index, counted from progress events (one event per step). */
async function countSteps(gen: AsyncGenerator<ExperimentEvent, void, undefined>): Promise<{ steps: Map<number, number>; result: RunResult }> {
  const steps = new Map<number, number>();
  let result: RunResult | null = null;
  for await (const e of gen) {
    if (e.type === 'progress' && e.method !== 'source') steps.set(e.taskIndex, (steps.get(e.taskIndex) ?? 0) + 1);
    if (e.type === 'result') result = e.result;
  }
  if (!result) throw new Error('no result');
  return { steps, result };
}

describe('budgets', () => {
  // 256 training examples, batch 64, 1 epoch: one stage = 4 steps; every step reports (yieldEveryStep)
  const stage = { epochs: 1, batchSize: 64, learningRate: 3e-3, weightDecay: 1e-4, seed: 1, reportIntervalMs: 1e9, yieldEveryStep: true };
  const tasks = () => [syntheticTask('a', 4, 1), syntheticTask('b', 3, 5, true), syntheticTask('c', 2, 9)];
  const baselines: [MethodName, number | null][] = [['ft', null], ['fe', null], ['lwf', 1], ['ewc', 10]];

  for (const budget of ['equal', 'stage'] as Budget[]) {
    it(`${budget}: counts each method's target-task steps per new task`, async () => {
      const exp = new Experiment(tasks(), { net: 'mlp', stage, headWarmupSteps: 1, fisherSamples: 8, budget });
      const rescl = await countSteps(exp.runMethod('rescl', 1e-3));
      // ResCL: fine-tune (4) + combine (4) on each new task
      expect([...rescl.steps.entries()]).toEqual([[1, 8], [2, 8]]);
      expect(rescl.result.budget).toBe(budget);
      disposeNet(rescl.result.net);
      for (const [method, knob] of baselines) {
        const before = tf.memory().numTensors;
        const r = await countSteps(exp.runMethod(method, knob));
        const perTask = budget === 'equal' ? 8 : 4;
        // under 'stage', FT's task 1 is ResCL's cached fine-tune (trained once above, 4 steps)
        const expected = budget === 'stage' && method === 'ft' ? [[2, perTask]] : [[1, perTask], [2, perTask]];
        expect([...r.steps.entries()]).toEqual(expected);
        expect(r.result.budget).toBe(budget);
        disposeNet(r.result.net);
        // the FT of task 1 may be cached (stage budget); EWC's source Fisher is cached on first use
        if (method !== 'ewc' && method !== 'ft') expect(tf.memory().numTensors).toBe(before);
      }
      exp.dispose();
    }, 900_000); // ~2 min alone; far longer when the 2 cores are shared
  }

  it('FWT reference: a random-init net on task k alone gets ResCL\'s per-task steps and is freed', async () => {
    const exp = new Experiment(tasks(), { net: 'mlp', stage });
    const before = tf.memory().numTensors;
    const gen = exp.scratchAccuracy(2);
    let steps = 0;
    let next = await gen.next();
    for (; !next.done; next = await gen.next()) steps += 1;
    expect(steps).toBe(8);
    expect(next.value).toBeGreaterThanOrEqual(0);
    expect(next.value).toBeLessThanOrEqual(1);
    expect(tf.memory().numTensors).toBe(before);
    exp.dispose();
  });

  it('joint: warm-started from the source with ResCL\'s remaining steps, or one stage from scratch', async () => {
    for (const jointInit of ['source', 'scratch'] as const) {
      const exp = new Experiment(tasks().slice(0, 2), { net: 'mlp', stage, jointInit });
      const r = await countSteps(exp.runMethod('joint'));
      // 2 tasks: ResCL spends fine-tune + combine (8 steps) after the source; scratch: one stage (4)
      expect([...r.steps.entries()]).toEqual([[1, jointInit === 'source' ? 8 : 4]]);
      expect(r.result.net.heads.map((h) => h.taskId)).toEqual(['a', 'b']);
      disposeNet(r.result.net);
      exp.dispose();
    }
  }, 240_000);

  it('equal: a maxSteps cap is scaled with the epochs', () => {
    const exp = new Experiment(tasks(), { net: 'mlp', stage: { ...stage, maxSteps: 3 } });
    expect(exp.stageOptionsFor('lwf', 1)).toMatchObject({ epochs: 2, maxSteps: 6 });
    expect(exp.stageOptionsFor('rescl', 1)).toMatchObject({ epochs: 1, maxSteps: 3 });
    expect(exp.stageOptionsFor('joint', 1)).toMatchObject({ epochs: 1, maxSteps: 3 });
    exp.dispose();
  });
});
