/**
 * Shared data types. Pixels stay uint8 everywhere in src/data (compact, cheap to transfer); the network
 * input is pixel / 255, a float in [0, 1] (see {@link toFloat01}).
 */

/** Image height and width in pixels: every image in the lab is 28x28 grayscale. */
export const IMAGE_SIDE = 28;
/** Pixels per image (28 * 28 = 784). */
export const IMAGE_PIXELS = IMAGE_SIDE * IMAGE_SIDE;

/**
 * A set of labelled 28x28 grayscale images.
 * - `images`: `count * 784` uint8 pixels, image after image, each row-major (pixel (r, c) of image i is
 *   `images[i * 784 + r * 28 + c]`), 0 = black background ... 255 = white ink.
 * - `labels`: `count` class indices in `0..numClasses-1`.
 * Treat the arrays as read-only: tasks built from the same source may share them.
 */
export interface LabeledImages {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  numClasses: number;
}

/** One task of a continual-learning sequence: its own label space, training and test split. */
export interface Task {
  /** Short stable id, e.g. 'mnist', 'fashion', 'mnist-0-4', 'mnist-perm', 'mnist-rot90', 'custom-1'. */
  id: string;
  /** Display name, e.g. 'Fashion-MNIST'. */
  name: string;
  /** One name per class; `classNames.length === train.numClasses === test.numClasses`. */
  classNames: string[];
  /** Height, width, channels of one input image. */
  inputShape: [28, 28, 1];
  train: LabeledImages;
  test: LabeledImages;
}

/** A loaded dataset: its splits and class names (what the loaders return and the task builders take). */
export interface DatasetSplits {
  train: LabeledImages;
  test: LabeledImages;
  classNames: string[];
}

/**
 * Converts uint8 pixels to the network's float input: `out[i] = images[i] / 255`, in [0, 1].
 * @param images any number of uint8 pixels (typically `count * 784`)
 * @returns a new Float32Array of the same length
 */
export function toFloat01(images: Uint8Array): Float32Array {
  const out = new Float32Array(images.length);
  const scale = 1 / 255;
  for (let i = 0; i < images.length; i++) out[i] = images[i] * scale;
  return out;
}

/**
 * Counts how many labels fall in each class.
 * @param labels class indices
 * @param numClasses length of the histogram; labels ≥ numClasses are ignored
 * @returns `counts[k]` = number of labels equal to k
 */
export function countClasses(labels: Uint8Array, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l < numClasses) counts[l]++;
  }
  return counts;
}

/**
 * Checks the invariants of a {@link LabeledImages} and returns a description of the first problem,
 * or null when it is consistent (array types, `images.length === count * 784`,
 * `labels.length === count`, `1 ≤ numClasses ≤ 256`, every label < numClasses).
 * @param x the value to check (may come from user code or a message)
 */
export function describeLabeledImagesProblem(x: LabeledImages): string | null {
  if (!x || typeof x !== 'object') return 'is not an object';
  if (!(x.images instanceof Uint8Array)) return 'images must be a Uint8Array';
  if (!(x.labels instanceof Uint8Array)) return 'labels must be a Uint8Array';
  if (!Number.isInteger(x.count) || x.count < 0) return `count must be a non-negative integer, got ${String(x.count)}`;
  if (x.images.length !== x.count * IMAGE_PIXELS) {
    return `images has ${x.images.length} bytes, expected count * 784 = ${x.count * IMAGE_PIXELS}`;
  }
  if (x.labels.length !== x.count) return `labels has ${x.labels.length} entries, expected count = ${x.count}`;
  if (!Number.isInteger(x.numClasses) || x.numClasses < 1 || x.numClasses > 256) {
    return `numClasses must be an integer in 1..256, got ${String(x.numClasses)}`;
  }
  for (let i = 0; i < x.labels.length; i++) {
    if (x.labels[i] >= x.numClasses) return `label ${x.labels[i]} at index ${i} is not below numClasses = ${x.numClasses}`;
  }
  return null;
}
