import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadBundledDataset } from './load';
import { nodeFetchBytes } from './loadNode';
import { BUNDLED_DATASETS, SCENARIO_IDS, SCENARIOS, getScenarioInfo, isScenarioId } from './registry';
import { createRng, deriveSeed } from './rng';
import {
  ScenarioError,
  buildCustomScenario,
  buildScenario,
  permutePixels,
  pixelPermutation,
  rotate90,
  stratifiedIndices,
  stratifiedSubset,
} from './tasks';
import type { ScenarioSource } from './tasks';
import { countClasses, toFloat01 } from './types';
import type { DatasetSplits, LabeledImages } from './types';

/** A synthetic dataset: image i has every pixel = i % 256 except pixel 0 = label; labels cycle with a skew. */
function synth(count: number, numClasses = 10, seed = 1): LabeledImages {
  const rng = createRng(seed);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) labels[i] = rng.next() < 0.3 ? 0 : rng.int(numClasses);
  const images = new Uint8Array(count * 784);
  for (let i = 0; i < count; i++) {
    images.fill(i % 256, i * 784, (i + 1) * 784);
    images[i * 784] = labels[i];
    images[i * 784 + 1] = i & 0xff;
    images[i * 784 + 2] = i >> 8;
  }
  return { images, labels, count, numClasses };
}

/** Byte-wise equality (much faster than toEqual on large arrays). */
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && Buffer.compare(a, b) === 0;

const idOf = (set: LabeledImages, k: number): number => set.images[k * 784 + 1] + 256 * set.images[k * 784 + 2];

function source(): ScenarioSource {
  const mnist: DatasetSplits = { train: synth(1000, 10, 1), test: synth(300, 10, 2), classNames: [...BUNDLED_DATASETS.mnist.classNames] };
  const fashion: DatasetSplits = { train: synth(800, 10, 3), test: synth(200, 10, 4), classNames: [...BUNDLED_DATASETS.fashion.classNames] };
  return { mnist, fashion };
}

async function scenarioError(fn: () => unknown): Promise<ScenarioError> {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ScenarioError);
    return err as ScenarioError;
  }
  throw new Error('expected a ScenarioError');
}

describe('registry', () => {
  it('lists the scenarios with help text and task counts', () => {
    expect(SCENARIO_IDS).toEqual(['mnist-fashion', 'split-mnist', 'permuted-mnist', 'rotated-mnist', 'mnist-fashion-rotated', 'custom']);
    for (const s of SCENARIOS) expect(s.description.length).toBeGreaterThan(20);
    expect(getScenarioInfo('mnist-fashion-rotated')?.numTasks).toBe(3);
    expect(isScenarioId('split-mnist')).toBe(true);
    expect(isScenarioId('nope')).toBe(false);
    expect(BUNDLED_DATASETS.fashion.classNames).toHaveLength(10);
    expect(BUNDLED_DATASETS.mnist.files.train.images).toBe('mnist-train-images.u8');
  });
});

describe('toFloat01', () => {
  it('maps 0..255 to [0, 1]', () => {
    expect(Array.from(toFloat01(Uint8Array.from([0, 51, 255])))).toEqual([0, Math.fround(0.2), 1]);
  });
});

describe('stratified subsets', () => {
  it('keeps class proportions within one example and is deterministic per seed', () => {
    const set = synth(1000);
    const full = countClasses(set.labels, 10);
    const sub = stratifiedSubset(set, 137, 5);
    expect(sub.count).toBe(137);
    const counts = countClasses(sub.labels, 10);
    counts.forEach((c, k) => expect(Math.abs(c - (137 * full[k]) / 1000)).toBeLessThan(1));
    const again = stratifiedSubset(set, 137, 5);
    expect(sameBytes(again.labels, sub.labels)).toBe(true);
    expect(sameBytes(again.images, sub.images)).toBe(true);
    const other = stratifiedSubset(set, 137, 6);
    expect(sameBytes(other.images, sub.images)).toBe(false);
  });

  it('returns sorted, distinct indices with labels matching the source', () => {
    const set = synth(500);
    const idx = stratifiedIndices(set.labels, 10, 50, createRng(1));
    expect(new Set(idx).size).toBe(50);
    for (let i = 1; i < idx.length; i++) expect(idx[i]).toBeGreaterThan(idx[i - 1]);
    const sub = stratifiedSubset(set, 50, 1);
    for (let k = 0; k < sub.count; k++) expect(sub.labels[k]).toBe(set.labels[idOf(sub, k)]);
  });

  it('returns the set itself without a limit or with a limit ≥ count', () => {
    const set = synth(100);
    expect(stratifiedSubset(set, undefined, 1)).toBe(set);
    expect(stratifiedSubset(set, 100, 1)).toBe(set);
  });
});

describe('buildScenario', () => {
  it('mnist-fashion: two tasks with ids, names, classes and shapes', () => {
    const tasks = buildScenario('mnist-fashion', source(), { seed: 1 });
    expect(tasks.map((t) => t.id)).toEqual(['mnist', 'fashion']);
    expect(tasks[1].classNames[9]).toBe('Ankle boot');
    expect(tasks[0].inputShape).toEqual([28, 28, 1]);
    expect(tasks[0].train.count).toBe(1000);
    expect(tasks[1].test.count).toBe(200);
  });

  it('applies train/test limits per task, same seed → same subset, different seed → different', () => {
    const a = buildScenario('mnist-fashion', source(), { seed: 1, trainLimit: 100, testLimit: 50 });
    const b = buildScenario('mnist-fashion', source(), { seed: 1, trainLimit: 100, testLimit: 50 });
    const c = buildScenario('mnist-fashion', source(), { seed: 2, trainLimit: 100, testLimit: 50 });
    expect(a[0].train.count).toBe(100);
    expect(a[1].test.count).toBe(50);
    expect(sameBytes(a[0].train.images, b[0].train.images)).toBe(true);
    expect(sameBytes(a[0].train.images, c[0].train.images)).toBe(false);
  });

  it('split-mnist: digits 0–4 then 5–9, labels re-indexed to 0..4, names kept', () => {
    const src = source();
    const [lo, hi] = buildScenario('split-mnist', src, { seed: 1 });
    expect(lo.id).toBe('mnist-0-4');
    expect(hi.id).toBe('mnist-5-9');
    expect(lo.classNames).toEqual(['0', '1', '2', '3', '4']);
    expect(hi.classNames).toEqual(['5', '6', '7', '8', '9']);
    expect(hi.train.numClasses).toBe(5);
    const full = countClasses(src.mnist!.train.labels, 10);
    expect(countClasses(lo.train.labels, 5)).toEqual(full.slice(0, 5));
    expect(countClasses(hi.train.labels, 5)).toEqual(full.slice(5));
    // Pixel 0 of the synthetic images holds the original label.
    for (let k = 0; k < hi.train.count; k++) expect(hi.train.images[k * 784]).toBe(hi.train.labels[k] + 5);
    expect(lo.train.count + hi.train.count).toBe(1000);
  });

  it('permuted-mnist: one seeded bijection applied identically to train and test', () => {
    const src = source();
    const tasks = buildScenario('permuted-mnist', src, { seed: 3 });
    expect(tasks.map((t) => t.id)).toEqual(['mnist', 'mnist-perm']);
    const p = pixelPermutation(deriveSeed(3, 'mnist-perm/pixels'));
    expect(new Set(p).size).toBe(784);
    expect(Math.min(...p)).toBe(0);
    expect(Math.max(...p)).toBe(783);
    const probe = Uint8Array.from({ length: 784 }, (_, i) => i % 251);
    const permuted = permutePixels(probe, p);
    for (let i = 0; i < 784; i++) expect(permuted[i]).toBe(probe[p[i]]);
    const mnist = src.mnist!;
    expect(sameBytes(tasks[1].train.images, permutePixels(mnist.train.images, p))).toBe(true);
    expect(sameBytes(tasks[1].test.images, permutePixels(mnist.test.images, p))).toBe(true);
    expect(sameBytes(tasks[1].train.labels, mnist.train.labels)).toBe(true);
    expect(sameBytes(tasks[0].train.images, mnist.train.images)).toBe(true);
    const other = buildScenario('permuted-mnist', src, { seed: 4 })[1];
    expect(sameBytes(other.train.images, tasks[1].train.images)).toBe(false);
    expect(() => permutePixels(probe, [1, 0])).toThrow(/needs 784 entries/);
  });

  it('rotated-mnist: exact 90° clockwise rotation', () => {
    // A 28x28 image with a single lit pixel at (r=0, c=0) and one at (r=2, c=5).
    const img = new Uint8Array(784);
    img[0] = 200;
    img[2 * 28 + 5] = 100;
    const out = rotate90(img);
    expect(out[0 * 28 + 27]).toBe(200); // top-left → top-right
    expect(out[5 * 28 + 25]).toBe(100); // (r, c) → (c, 27 - r)
    expect(out.reduce((a, b) => a + b, 0)).toBe(300);
    // Four rotations are the identity; applied per image in a batch.
    const batch = synth(3).images;
    expect(sameBytes(rotate90(rotate90(rotate90(rotate90(batch)))), batch)).toBe(true);
    const tasks = buildScenario('rotated-mnist', source(), { seed: 1 });
    expect(tasks.map((t) => t.id)).toEqual(['mnist', 'mnist-rot90']);
    expect(sameBytes(tasks[1].test.images, rotate90(tasks[0].test.images))).toBe(true);
  });

  it('mnist-fashion-rotated: three tasks in order', () => {
    const tasks = buildScenario('mnist-fashion-rotated', source(), { seed: 1, trainLimit: 200 });
    expect(tasks.map((t) => t.id)).toEqual(['mnist', 'fashion', 'mnist-rot90']);
    expect(tasks.map((t) => t.train.count)).toEqual([200, 200, 200]);
    expect(tasks.every((t) => t.train.numClasses === t.classNames.length && t.test.numClasses === t.classNames.length)).toBe(true);
  });

  it('refuses unknown ids (listing valid ones), missing datasets and bad options', async () => {
    const e = await scenarioError(() => buildScenario('cifar', source(), { seed: 1 }));
    expect(e.code).toBe('unknown-scenario');
    expect(e.message).toMatch(/unknown scenario "cifar"; valid ids: mnist-fashion, split-mnist, permuted-mnist/);
    expect((await scenarioError(() => buildScenario('mnist-fashion', { mnist: source().mnist }, { seed: 1 }))).message).toMatch(
      /needs the fashion dataset/,
    );
    expect((await scenarioError(() => buildScenario('split-mnist', source(), { seed: 1.5 }))).code).toBe('bad-option');
    expect((await scenarioError(() => buildScenario('split-mnist', source(), { seed: 1, trainLimit: 0 }))).message).toMatch(/trainLimit/);
    expect((await scenarioError(() => buildScenario('custom', source(), { seed: 1 }))).code).toBe('missing-dataset');
  });
});

describe('buildCustomScenario', () => {
  const pair = (n: number, classes: number, seed: number): LabeledImages => synth(n, classes, seed);

  it('builds tasks in order with stable ids and default class names', () => {
    const tasks = buildCustomScenario([
      { name: 'KMNIST', train: pair(100, 10, 1), test: pair(20, 10, 2) },
      { name: 'Letters', train: pair(80, 27, 3), test: pair(20, 27, 4), classNames: Array.from({ length: 27 }, (_, i) => `c${i}`) },
    ]);
    expect(tasks.map((t) => t.id)).toEqual(['custom-1', 'custom-2']);
    expect(tasks[0].classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(tasks[1].classNames[26]).toBe('c26');
    expect(tasks[1].test.numClasses).toBe(27);
    const viaScenario = buildScenario('custom', { custom: [{ name: 'K', train: pair(100, 10, 1), test: pair(20, 10, 2) }] }, { seed: 1, trainLimit: 10 });
    expect(viaScenario[0].train.count).toBe(10);
  });

  it('validates its input with messages naming the task', async () => {
    const good = { name: 'ok', train: pair(50, 10, 1), test: pair(10, 10, 2) };
    expect((await scenarioError(() => buildCustomScenario([]))).message).toMatch(/at least one task/);
    expect((await scenarioError(() => buildCustomScenario([good, { ...good, name: '' }]))).message).toMatch(/custom task 2: needs a non-empty name/);
    const broken = { ...good.train, images: new Uint8Array(10) };
    expect((await scenarioError(() => buildCustomScenario([{ ...good, train: broken }]))).message).toMatch(
      /custom task 1 \("ok"\): train split images has 10 bytes, expected count \* 784 = 39200/,
    );
    const wideTest = pair(10, 12, 5);
    expect((await scenarioError(() => buildCustomScenario([{ ...good, test: wideTest }]))).message).toMatch(
      /test split has label 1[01], but the training split has only 10 classes/,
    );
    expect((await scenarioError(() => buildCustomScenario([{ ...good, classNames: ['a'] }]))).message).toMatch(
      /classNames has 1 names but the data has 10 classes/,
    );
    const badLabel = { ...good.train, labels: good.train.labels.slice() };
    badLabel.labels[3] = 10;
    expect((await scenarioError(() => buildCustomScenario([{ ...good, train: badLabel }]))).message).toMatch(/label 10 at index 3/);
  });
});

describe.skipIf(!existsSync('public/data/index.json'))('scenarios on the real bundled data', () => {
  it('builds every bundled scenario with limits quickly', async () => {
    const fetchBytes = nodeFetchBytes();
    const [mnist, fashion] = await Promise.all([loadBundledDataset('mnist', fetchBytes), loadBundledDataset('fashion', fetchBytes)]);
    const t0 = performance.now();
    for (const id of SCENARIO_IDS.filter((s) => s !== 'custom')) {
      const tasks = buildScenario(id, { mnist, fashion }, { seed: 7, trainLimit: 5000, testLimit: 1000 });
      expect(tasks.length).toBe(getScenarioInfo(id)?.numTasks);
      for (const t of tasks) {
        expect(t.train.count).toBe(5000);
        expect(t.test.count).toBe(1000);
      }
    }
    const full = buildScenario('split-mnist', { mnist }, { seed: 7 });
    expect(full[0].train.count + full[1].train.count).toBe(60000);
    console.info(`built every bundled scenario in ${(performance.now() - t0).toFixed(0)} ms`); // measured, not asserted
  });
});
