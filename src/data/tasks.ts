/**
 * Builds task sequences (scenarios) from loaded datasets. Everything random comes from a seeded
 * {@link createRng}, so the same seed gives the same subsets, permutation and order in every
 * environment. Pixels stay uint8; tasks without a transform or limit share their source's arrays
 * (treat them as read-only, copy before transferring).
 */
import { getScenarioInfo, SCENARIO_IDS } from './registry';
import type { ScenarioId } from './registry';
import { createRng, deriveSeed } from './rng';
import type { Rng } from './rng';
import { describeLabeledImagesProblem, IMAGE_PIXELS, IMAGE_SIDE } from './types';
import type { DatasetSplits, LabeledImages, Task } from './types';

/** Why a scenario could not be built. */
export type ScenarioErrorCode = 'unknown-scenario' | 'missing-dataset' | 'bad-option' | 'bad-custom';

/** A scenario that could not be built; `message` says what to change. */
export class ScenarioError extends Error {
  /** Machine-readable reason. */
  readonly code: ScenarioErrorCode;

  /**
   * @param code machine-readable reason
   * @param message a sentence for people
   */
  constructor(code: ScenarioErrorCode, message: string) {
    super(message);
    this.name = 'ScenarioError';
    this.code = code;
  }
}

/** One user-given task for the custom scenario (typically from {@link ../parse/idx.parseIdxPair}). */
export interface CustomTaskInput {
  name: string;
  train: LabeledImages;
  test: LabeledImages;
  /** One per class; default '0', '1', ... */
  classNames?: string[];
}

/** The loaded data a scenario is built from; only the datasets the scenario needs must be present. */
export interface ScenarioSource {
  mnist?: DatasetSplits;
  fashion?: DatasetSplits;
  /** Task inputs for the 'custom' scenario. */
  custom?: CustomTaskInput[];
}

/** Options of {@link buildScenario}. */
export interface ScenarioOptions {
  /** Integer seed for subsets and the pixel permutation. */
  seed: number;
  /** Training examples per task: a stratified, seeded subset; default (or ≥ count) the full split. */
  trainLimit?: number;
  /** Test examples per task, likewise; default the full test split. */
  testLimit?: number;
}

const INPUT_SHAPE: [28, 28, 1] = [IMAGE_SIDE, IMAGE_SIDE, 1];

/**
 * Indices of a stratified subset of `limit` examples: each class k gets
 * floor(limit * n_k / N) examples, and the remaining slots go to the classes with the largest
 * fractional parts (ties: lower class first), so class proportions are kept within one example.
 * Within a class the examples are chosen by a seeded shuffle. Returned in ascending order
 * (so the source order, already interleaved, is kept).
 *
 * @param labels class index of each example
 * @param numClasses number of classes (labels must be below it)
 * @param limit subset size, 0 ≤ limit ≤ labels.length
 * @param rng the random source (advanced)
 */
export function stratifiedIndices(labels: Uint8Array, numClasses: number, limit: number, rng: Rng): Uint32Array {
  const n = labels.length;
  if (!Number.isInteger(limit) || limit < 0 || limit > n) throw new RangeError(`limit must be an integer in 0..${n}, got ${limit}`);
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < n; i++) byClass[labels[i]].push(i);
  const quotas = byClass.map((idx) => Math.floor((limit * idx.length) / n));
  let remaining = limit - quotas.reduce((a, b) => a + b, 0);
  const order = byClass
    .map((idx, k) => ({ k, frac: (limit * idx.length) / n - quotas[k] }))
    .filter(({ frac }) => frac > 0)
    .sort((a, b) => b.frac - a.frac || a.k - b.k);
  for (const { k } of order) {
    if (remaining === 0) break;
    quotas[k]++;
    remaining--;
  }
  const chosen = new Uint32Array(limit);
  let w = 0;
  byClass.forEach((idx, k) => {
    rng.shuffle(idx);
    for (let j = 0; j < quotas[k]; j++) chosen[w++] = idx[j];
  });
  return chosen.sort();
}

/**
 * Gathers the examples at `indices` into new arrays.
 * @param set the source
 * @param indices positions into `set`
 */
export function takeExamples(set: LabeledImages, indices: ArrayLike<number>): LabeledImages {
  const count = indices.length;
  const images = new Uint8Array(count * IMAGE_PIXELS);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const src = indices[i];
    images.set(set.images.subarray(src * IMAGE_PIXELS, (src + 1) * IMAGE_PIXELS), i * IMAGE_PIXELS);
    labels[i] = set.labels[src];
  }
  return { images, labels, count, numClasses: set.numClasses };
}

/**
 * A stratified, seeded subset of at most `limit` examples (see {@link stratifiedIndices});
 * returns `set` itself when `limit` is undefined or ≥ its count.
 * @param set the source
 * @param limit wanted size (a positive integer) or undefined for all
 * @param seed integer seed
 */
export function stratifiedSubset(set: LabeledImages, limit: number | undefined, seed: number): LabeledImages {
  if (limit === undefined || limit >= set.count) return set;
  return takeExamples(set, stratifiedIndices(set.labels, set.numClasses, limit, createRng(seed)));
}

/**
 * Keeps only the examples whose label is in `classes` and re-indexes labels to their position in
 * `classes` (e.g. classes [5,6,7,8,9]: label 7 → 2).
 * @param set the source
 * @param classes the original class indices to keep, in their new order
 */
export function selectClasses(set: LabeledImages, classes: readonly number[]): LabeledImages {
  const map = new Int16Array(256).fill(-1);
  classes.forEach((c, i) => (map[c] = i));
  const keep: number[] = [];
  for (let i = 0; i < set.count; i++) if (map[set.labels[i]] >= 0) keep.push(i);
  const out = takeExamples(set, keep);
  for (let i = 0; i < out.count; i++) out.labels[i] = map[out.labels[i]];
  out.numClasses = classes.length;
  return out;
}

/**
 * A seeded permutation of the 784 pixel positions.
 * @param seed integer seed
 */
export function pixelPermutation(seed: number): Uint32Array {
  return createRng(seed).permutation(IMAGE_PIXELS);
}

/**
 * Applies a pixel permutation to every image: `out[i*784 + p] = images[i*784 + perm[p]]`.
 * @param images count*784 uint8 pixels
 * @param perm a permutation of 0..783
 */
export function permutePixels(images: Uint8Array, perm: ArrayLike<number>): Uint8Array {
  if (perm.length !== IMAGE_PIXELS) throw new RangeError(`a pixel permutation needs ${IMAGE_PIXELS} entries, got ${perm.length}`);
  const out = new Uint8Array(images.length);
  for (let base = 0; base < images.length; base += IMAGE_PIXELS) {
    for (let p = 0; p < IMAGE_PIXELS; p++) out[base + p] = images[base + perm[p]];
  }
  return out;
}

/**
 * Rotates every 28x28 image 90° clockwise, exactly (a pixel index mapping, no interpolation):
 * `out[r][c] = in[27 - c][r]`, so the top-left pixel moves to the top-right corner.
 * @param images count*784 uint8 pixels, row-major
 */
export function rotate90(images: Uint8Array): Uint8Array {
  const S = IMAGE_SIDE;
  const out = new Uint8Array(images.length);
  for (let base = 0; base < images.length; base += IMAGE_PIXELS) {
    for (let r = 0; r < S; r++) {
      for (let c = 0; c < S; c++) out[base + r * S + c] = images[base + (S - 1 - c) * S + r];
    }
  }
  return out;
}

function checkLimit(value: number | undefined, what: string): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) {
    throw new ScenarioError('bad-option', `${what} must be a positive integer or left out for the full split, got ${String(value)}`);
  }
}

function checkOptions(options: ScenarioOptions): void {
  if (!options || !Number.isSafeInteger(options.seed)) {
    throw new ScenarioError('bad-option', `seed must be an integer, got ${String(options?.seed)}`);
  }
  checkLimit(options.trainLimit, 'trainLimit');
  checkLimit(options.testLimit, 'testLimit');
}

/** Builds one task: stratified limits (seeded per task id and split), then a pixel transform. */
function makeTask(
  id: string,
  name: string,
  data: DatasetSplits,
  options: ScenarioOptions,
  transform?: (images: Uint8Array) => Uint8Array,
): Task {
  const split = (set: LabeledImages, limit: number | undefined, which: string): LabeledImages => {
    const sub = stratifiedSubset(set, limit, deriveSeed(options.seed, `${id}/${which}`));
    return transform ? { ...sub, images: transform(sub.images) } : sub;
  };
  return {
    id,
    name,
    classNames: [...data.classNames],
    inputShape: [...INPUT_SHAPE],
    train: split(data.train, options.trainLimit, 'train'),
    test: split(data.test, options.testLimit, 'test'),
  };
}

function need(source: ScenarioSource, name: 'mnist' | 'fashion', scenario: string): DatasetSplits {
  const ds = source[name];
  if (!ds) {
    throw new ScenarioError('missing-dataset', `scenario "${scenario}" needs the ${name} dataset loaded, but the source has none`);
  }
  return ds;
}

function splitDigits(mnist: DatasetSplits, classes: number[]): DatasetSplits {
  return {
    train: selectClasses(mnist.train, classes),
    test: selectClasses(mnist.test, classes),
    classNames: classes.map((c) => mnist.classNames[c]),
  };
}

/**
 * Builds the tasks of a scenario (see SCENARIOS in registry.ts for the list and help texts):
 * - 'mnist-fashion': [mnist, fashion]
 * - 'split-mnist': [mnist-0-4, mnist-5-9], labels re-indexed to 0..4, class names kept ('5'..'9')
 * - 'permuted-mnist': [mnist, mnist-perm], one permutation from `deriveSeed(seed, 'mnist-perm/pixels')`
 *   applied to train and test alike
 * - 'rotated-mnist': [mnist, mnist-rot90] (90° clockwise)
 * - 'mnist-fashion-rotated': [mnist, fashion, mnist-rot90]
 * - 'custom': {@link buildCustomScenario} on `source.custom`
 * Limits pick a stratified subset seeded by `deriveSeed(seed, '<task id>/<split>')`.
 *
 * @param id a scenario id
 * @param source the loaded datasets the scenario needs
 * @param options seed and optional per-task train/test limits
 * @throws ScenarioError 'unknown-scenario' (listing the valid ids), 'missing-dataset', 'bad-option', 'bad-custom'
 */
export function buildScenario(id: ScenarioId | string, source: ScenarioSource, options: ScenarioOptions): Task[] {
  if (!getScenarioInfo(id)) {
    throw new ScenarioError('unknown-scenario', `unknown scenario "${id}"; valid ids: ${SCENARIO_IDS.join(', ')}`);
  }
  checkOptions(options);
  const scenario = id as ScenarioId;
  const rot = (d: DatasetSplits): Task => makeTask('mnist-rot90', 'MNIST rotated 90°', d, options, rotate90);
  switch (scenario) {
    case 'mnist-fashion':
      return [
        makeTask('mnist', 'MNIST', need(source, 'mnist', id), options),
        makeTask('fashion', 'Fashion-MNIST', need(source, 'fashion', id), options),
      ];
    case 'split-mnist': {
      const mnist = need(source, 'mnist', id);
      return [
        makeTask('mnist-0-4', 'MNIST digits 0–4', splitDigits(mnist, [0, 1, 2, 3, 4]), options),
        makeTask('mnist-5-9', 'MNIST digits 5–9', splitDigits(mnist, [5, 6, 7, 8, 9]), options),
      ];
    }
    case 'permuted-mnist': {
      const mnist = need(source, 'mnist', id);
      const perm = pixelPermutation(deriveSeed(options.seed, 'mnist-perm/pixels'));
      return [
        makeTask('mnist', 'MNIST', mnist, options),
        makeTask('mnist-perm', 'Permuted MNIST', mnist, options, (images) => permutePixels(images, perm)),
      ];
    }
    case 'rotated-mnist': {
      const mnist = need(source, 'mnist', id);
      return [makeTask('mnist', 'MNIST', mnist, options), rot(mnist)];
    }
    case 'mnist-fashion-rotated': {
      const mnist = need(source, 'mnist', id);
      return [makeTask('mnist', 'MNIST', mnist, options), makeTask('fashion', 'Fashion-MNIST', need(source, 'fashion', id), options), rot(mnist)];
    }
    case 'custom':
      if (!source.custom) {
        throw new ScenarioError('missing-dataset', 'scenario "custom" needs task inputs in source.custom (from IDX file pairs)');
      }
      return buildCustomScenario(source.custom, options);
  }
}

/**
 * Builds tasks from user-given image sets (e.g. parsed IDX pairs), in the given order, with ids
 * 'custom-1', 'custom-2', ... Each task's class count is its training set's `numClasses`; test labels
 * must be below it, and `classNames`, when given, must have exactly that many entries.
 *
 * @param pairs one entry per task
 * @param options seed and limits as in {@link buildScenario} (default seed 0, full splits)
 * @throws ScenarioError 'bad-custom' naming the task and the problem, or 'bad-option'
 */
export function buildCustomScenario(pairs: CustomTaskInput[], options: ScenarioOptions = { seed: 0 }): Task[] {
  checkOptions(options);
  if (!Array.isArray(pairs) || pairs.length === 0) {
    throw new ScenarioError('bad-custom', 'a custom scenario needs at least one task (an images/labels pair for train and for test)');
  }
  return pairs.map((pair, i) => {
    const label = `custom task ${i + 1}${pair && typeof pair.name === 'string' && pair.name ? ` ("${pair.name}")` : ''}`;
    const fail = (msg: string): never => {
      throw new ScenarioError('bad-custom', `${label}: ${msg}`);
    };
    if (!pair || typeof pair !== 'object') return fail('expected {name, train, test, classNames?}');
    if (typeof pair.name !== 'string' || pair.name.trim() === '') fail('needs a non-empty name');
    for (const which of ['train', 'test'] as const) {
      const set = pair[which];
      const problem = set && typeof set === 'object' ? describeLabeledImagesProblem(set) : 'is missing';
      if (problem) fail(`${which} split ${problem}`);
      if (set.count === 0) fail(`${which} split has no examples`);
    }
    const numClasses = pair.train.numClasses;
    let maxTest = 0;
    for (let j = 0; j < pair.test.count; j++) if (pair.test.labels[j] > maxTest) maxTest = pair.test.labels[j];
    if (maxTest >= numClasses) {
      fail(`the test split has label ${maxTest}, but the training split has only ${numClasses} classes (0..${numClasses - 1}); are the files from the same dataset?`);
    }
    let classNames: string[];
    if (pair.classNames !== undefined) {
      if (!Array.isArray(pair.classNames) || !pair.classNames.every((c) => typeof c === 'string')) fail('classNames must be an array of strings');
      if (pair.classNames.length !== numClasses) fail(`classNames has ${pair.classNames.length} names but the data has ${numClasses} classes`);
      classNames = [...pair.classNames];
    } else {
      classNames = Array.from({ length: numClasses }, (_, k) => String(k));
    }
    const data: DatasetSplits = {
      train: pair.train,
      test: { ...pair.test, numClasses },
      classNames,
    };
    return makeTask(`custom-${i + 1}`, pair.name.trim(), data, options);
  });
}
