import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { expectNoTensorLeak } from '../testing/tensors';
import { registerFastKernels, restoreStockKernels } from '../kernels';
import { CHECK_STEPS, runBench } from './cases';
import { parseBenchOptions, type BenchCaseLine, type BenchCheckLine, type BenchLine } from './options';

const tiny = parseBenchOptions({ net: 'mlp', stage: 'plain,combined', batch: '4', steps: '2', warmup: '1', width: '0.05', top: '3' });

async function collect(stop?: () => boolean): Promise<BenchLine[]> {
  const lines: BenchLine[] = [];
  for await (const line of runBench(tiny, 'node', stop)) lines.push(line);
  return lines;
}

describe('runBench (cpu)', () => {
  it('times both stages and reports the ratio', async () => {
    const lines = await collect();
    expect(lines.map((l) => l.name)).toEqual(['mlp-plain', 'mlp-combined', 'mlp-combined-vs-plain']);
    const [plain, combined] = lines as BenchCaseLine[];
    for (const c of [plain, combined]) {
      expect(c.backend).toBe(tf.getBackend());
      expect(c.msPerStepMedian).toBeGreaterThan(0);
      expect(c.msPerStepMin).toBeLessThanOrEqual(c.msPerStepMedian);
      expect(c.deviceSubmissionsPerStep).toBeNull(); // cpu has no GPU queue
      expect(c.gpuDispatchesPerStep).toBeNull();
      expect(c.topKernels).toHaveLength(3);
    }
    // The combined stage runs two branches, the α and the distillation: more kernels than one net.
    expect(combined.kernelsPerStep).toBeGreaterThan(plain.kernelsPerStep * 1.5);
    const ratio = lines[2] as { ratio: number };
    expect(ratio.ratio).toBeCloseTo(combined.msPerStepMedian / plain.msPerStepMedian, 1);
  });

  it('stops between cases when asked', async () => {
    let cases = 0;
    const lines: BenchLine[] = [];
    for await (const line of runBench(tiny, 'node', () => cases >= 1)) {
      lines.push(line);
      cases += 1;
    }
    expect(lines.map((l) => l.name)).toEqual(['mlp-plain']);
  });

  it('leaks no tensors', async () => {
    await expectNoTensorLeak(async () => { await collect(); });
  });
});

describe('runBench --check (cpu)', () => {
  it('trains each case with tfjs kernels and with the lab kernels and finds the same losses', async () => {
    registerFastKernels('cpu');
    try {
      const options = parseBenchOptions({ net: 'conv4', stage: 'plain', batch: '4', steps: '1', warmup: '0', width: '0.125', check: '1' });
      const lines: BenchLine[] = [];
      for await (const line of runBench(options, 'node')) lines.push(line);
      expect(lines.map((l) => l.name)).toEqual(['conv4-plain-losses', 'conv4-plain']);
      const check = lines[0] as BenchCheckLine;
      expect(check.stockLosses).toHaveLength(CHECK_STEPS);
      expect(check.fastLosses).toHaveLength(CHECK_STEPS);
      expect(check.stockLosses.every(Number.isFinite)).toBe(true);
      expect(check.ok).toBe(true);
      expect(check.maxRelDiff).toBeLessThanOrEqual(1e-3);
      // the losses move: the check compares a real training run, not copies of one number
      expect(new Set(check.stockLosses).size).toBeGreaterThan(1);
      expect((lines[1] as BenchCaseLine).kernels).toBe('fast');
    } finally {
      restoreStockKernels('cpu');
    }
  });
});
