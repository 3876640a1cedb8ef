// The method's limits on a small real run (split-mnist, real MNIST digits): the invariants docs/METHOD.md
// states for λ → ∞ and λ = 0. These are properties of the method, not research outcomes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScenarioTasks } from '../data/scenarioNode';
import { finishRun } from '../testing/experiment';
import { Experiment } from './experiment';
import { disposeNet } from './nets';
import type { TaskData } from './types';

describe('ResCL limits on real data (split-mnist, small mlp, 500 images per task)', () => {
  let tasks: TaskData[];
  let exp: Experiment;
  beforeAll(async () => {
    tasks = await loadScenarioTasks('split-mnist', { seed: 1, trainLimit: 500, testLimit: 1000 });
    // width 0.25: a 784-100-100 mlp, so the suite stays fast on tfjs-cpu
    exp = new Experiment(tasks, {
      net: 'mlp', width: 0.25, seed: 1, headWarmupSteps: 10, alphaLearningRate: 2e-2,
      stage: { epochs: 6, batchSize: 50, learningRate: 3e-3, weightDecay: 1e-4, seed: 1, reportIntervalMs: 1000 },
    });
  });
  afterAll(() => exp.dispose());

  it('λ very large keeps the source accuracy within 1 point; λ = 0 reaches fine-tuning\'s target accuracy − 2 points', async () => {
    const ft = await finishRun(exp.runMethod('ft'));
    const keep = await finishRun(exp.runMethod('rescl', 10));
    const free = await finishRun(exp.runMethod('rescl', 0));
    const source = exp.sourceTestAccuracy;
    const [a, b] = tasks.map((t) => t.id);
    expect(source).toBeGreaterThan(0.9);
    expect(keep.accByTask[a]).toBeGreaterThanOrEqual(source - 0.01);
    expect(free.accByTask[b]).toBeGreaterThanOrEqual(ft.accByTask[b] - 0.02);
    // fine-tuning forgets more than a point, which is what makes the first check meaningful
    expect(ft.accByTask[a]).toBeLessThan(source - 0.01);
    expect(ft.accByTask[a]).toBeLessThan(keep.accByTask[a]);
    [ft, keep, free].forEach((r) => disposeNet(r.net));
  }, 300_000);
});
