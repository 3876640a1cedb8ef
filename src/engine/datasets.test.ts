import { describe, expect, it } from 'vitest';
import { nodeFetchBytes } from '../data/loadNode';
import { IMAGE_PIXELS } from '../data/types';
import { customTasks, DatasetCache, subset, UnknownScenario } from './datasets';

describe('DatasetCache', () => {
  it('fetches a bundled dataset once and reuses it across scenarios', async () => {
    const fetchOnce = nodeFetchBytes('public/data');
    const paths: string[] = [];
    const cache = new DatasetCache(async (p) => { paths.push(p); return fetchOnce(p); });
    const a = await cache.scenarioTasks({ scenario: 'split-mnist', seed: 1, trainLimit: 50, testLimit: 20 });
    const fetched = paths.length;
    expect(fetched).toBeGreaterThan(0);
    expect(a.map((t) => t.id)).toEqual(['mnist-0-4', 'mnist-5-9']);
    await cache.scenarioTasks({ scenario: 'split-mnist', seed: 2, trainLimit: 50, testLimit: 20 });
    expect(paths.length).toBe(fetched);
  });

  it('names the scenario in a load failure and refuses unknown scenarios', async () => {
    const cache = new DatasetCache(async () => { throw new Error('HTTP 404'); });
    await expect(cache.scenarioTasks({ scenario: 'split-mnist', seed: 1, trainLimit: null, testLimit: null })).rejects.toThrow(/cannot load scenario split-mnist: .*HTTP 404/);
    await expect(cache.scenarioTasks({ scenario: 'nope' as never, seed: 1, trainLimit: null, testLimit: null })).rejects.toBeInstanceOf(UnknownScenario);
  });
});

describe('customTasks / subset', () => {
  it('refuses broken IDX files with the file named', () => {
    const bad = new ArrayBuffer(3);
    expect(() => customTasks([{ name: 'mine', trainImages: bad, trainLabels: bad, testImages: bad, testLabels: bad }], 1, null)).toThrow(/mine train images/);
  });

  it('subset views the first n examples', () => {
    const d = { images: new Float32Array(5 * IMAGE_PIXELS), labels: new Uint8Array(5), count: 5, numClasses: 2 };
    const s = subset(d as never, 2);
    expect(s.count).toBe(2);
    expect(s.images.length).toBe(2 * IMAGE_PIXELS);
    expect(subset(d as never, 99).count).toBe(5);
  });
});
