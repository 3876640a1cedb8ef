import { describe, expect, it } from 'vitest';
import type { ReproRun } from './report';
import { assembleResults, mergeResults, MergeError, type StudyParts } from './studyResults';

const tasks = [{ id: 'mnist', name: 'MNIST', numClasses: 10 }, { id: 'fashion', name: 'Fashion-MNIST', numClasses: 10 }];

function runsOf(seed: number, shift: number): ReproRun[] {
  const run = (method: ReproRun['method'], knob: number | null, source: number, target: number, modelDir?: string): ReproRun => ({
    method, knob, seed, accByTask: { mnist: source, fashion: target }, accMatrix: [[0.95], [source, target]], paramCount: 10,
    source, target, average: (source + target) / 2, seconds: 1, ...(modelDir ? { modelDir } : {}),
  });
  return [
    run('ft', null, 0.8 + shift, 0.85 - shift),
    run('rescl', 0, 0.93 - shift, 0.82 + shift, 'rescl-lambda-0'),
    run('rescl', 0.01, 0.95, 0.78 + shift, 'rescl-lambda-0.01'),
  ];
}

function parts(seeds: number[], seconds = 10): StudyParts {
  return {
    scenario: 'mnist-fashion', net: 'mlp', backend: 'wasm', budget: 'equal', settings: { epochs: 3, batch: 128 }, tasks, seeds,
    sourceAccuracyBySeed: Object.fromEntries(seeds.map((s) => [s, 0.94 + s / 1000])),
    runs: seeds.flatMap((s) => runsOf(s, s / 100)),
    scratch: Object.fromEntries(seeds.map((s) => [s, [null, 0.86 + s / 1000]])),
    seconds,
  };
}

describe('study results', () => {
  it('merging single-seed studies gives what one --seeds study gives (mean ± sd, τ over seeds, metrics per seed)', () => {
    const together = assembleResults(parts([1, 2, 3], 30));
    const merged = mergeResults([assembleResults(parts([1])), assembleResults(parts([2])), assembleResults(parts([3]))]);
    expect(merged).toEqual(together);
    expect(merged.seeds).toEqual([1, 2, 3]);
    expect(merged.aggregate?.points.find((p) => p.method === 'ft')?.target.n).toBe(3);
    // τ from the mean FT target: (0.84 + 0.83 + 0.82) / 3 − 0.01
    expect(merged.aggregate?.criteria[0].tau).toBeCloseTo(0.82, 10);
    expect(merged.sourceAccuracy).toBeCloseTo(0.942, 10);
    // FWT of seed 2 uses seed 2's single-task reference
    const ftSeed2 = merged.runs.find((r) => r.method === 'ft' && r.seed === 2)!;
    expect(ftSeed2.metrics?.fwt).toEqual(expect.objectContaining({ value: expect.closeTo(0.83 - 0.862, 10) }));
  });

  it('relocates model folders into the merged study and merges a multi-seed study with a single-seed one', () => {
    const merged = mergeResults([assembleResults(parts([1, 2])), assembleResults(parts([3]))], (i, dir) => `../part${i}/${dir}`);
    expect(merged.seeds).toEqual([1, 2, 3]);
    expect(merged.runs.filter((r) => r.modelDir).map((r) => r.modelDir)).toEqual([
      '../part0/rescl-lambda-0', '../part0/rescl-lambda-0.01', '../part0/rescl-lambda-0', '../part0/rescl-lambda-0.01',
      '../part1/rescl-lambda-0', '../part1/rescl-lambda-0.01',
    ]);
  });

  it('refuses studies of different plans or with a seed twice, naming what differs', () => {
    const one = assembleResults(parts([1]));
    const other = (change: Partial<StudyParts>) => assembleResults({ ...parts([2]), ...change });
    expect(() => mergeResults([one])).toThrow(MergeError);
    expect(() => mergeResults([one, assembleResults(parts([1]))])).toThrow(/seed 1 is in study 1 and study 2/);
    expect(() => mergeResults([one, other({ settings: { epochs: 2, batch: 128 } })])).toThrow(/settings differ/);
    expect(() => mergeResults([one, other({ net: 'conv4' })])).toThrow(/net differ/);
    expect(() => mergeResults([one, other({ runs: runsOf(2, 0).slice(0, 2) })])).toThrow(/methods or knobs differ/);
  });

  it('reads results written before per-seed source accuracies existed', () => {
    const old = (seed: number) => {
      const r = assembleResults(parts([seed]));
      delete r.sourceAccuracyBySeed;
      return r;
    };
    expect(mergeResults([old(1), old(2)]).sourceAccuracyBySeed).toEqual({ 1: 0.941, 2: 0.942 });
  });
});
