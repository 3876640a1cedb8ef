/**
 * Keeps a dataset resident on the backend (GPU memory under WebGPU) and gathers mini-batches there,
 * so a training step uploads only the batch indices.
 */
import * as tf from '@tensorflow/tfjs';
import { seededRandom } from './random';
import { IMAGE_SIZE, type Dataset } from './types';

/** A dataset as backend tensors: x [N, 28, 28, 1] float32 in [0, 1], y int32 [N]. */
export interface ResidentDataset {
  x: tf.Tensor4D;
  y: tf.Tensor1D;
  count: number;
  numClasses: number;
}

/** Uploads a dataset once: pixels / 255 → [N, 28, 28, 1]; labels → int32 [N]. */
export function makeResident(ds: Dataset): ResidentDataset {
  if (ds.images.length !== ds.count * IMAGE_SIZE * IMAGE_SIZE) {
    throw new Error(`dataset has ${ds.images.length} pixel bytes, expected ${ds.count} x 784`);
  }
  if (ds.labels.length !== ds.count) throw new Error(`dataset has ${ds.labels.length} labels for ${ds.count} images`);
  const x = tf.tidy(() => tf.div(tf.tensor4d(ds.images, [ds.count, IMAGE_SIZE, IMAGE_SIZE, 1], 'int32'), 255) as tf.Tensor4D);
  const y = tf.tensor1d(ds.labels, 'int32');
  return { x, y, count: ds.count, numClasses: ds.numClasses };
}

/** Frees the resident tensors. */
export function disposeResident(r: ResidentDataset): void {
  r.x.dispose();
  r.y.dispose();
}

/**
 * Mini-batch index plan over `epochs` epochs: each epoch is a fresh seeded permutation cut into
 * batches of `batchSize` (the last, smaller batch of an epoch is kept).
 */
export function* batchPlan(count: number, batchSize: number, epochs: number, seed: number): Generator<{ epoch: number; indices: Int32Array }> {
  const rng = seededRandom(seed);
  for (let epoch = 0; epoch < epochs; epoch++) {
    const perm = rng.permutation(count);
    for (let start = 0; start < count; start += batchSize) {
      yield { epoch, indices: perm.subarray(start, Math.min(count, start + batchSize)) };
    }
  }
}

/** Number of steps `batchPlan` yields. */
export function stepsFor(count: number, batchSize: number, epochs: number): number {
  return Math.ceil(count / batchSize) * epochs;
}

/**
 * A training batch on the backend: x [B, 28, 28, 1], indices int32 [B] (the rows of the dataset),
 * and the labels y int32 [B], gathered on first read: a loss that never reads them (the combine
 * stage distils from recorded outputs) costs no gather (one GPU dispatch). Make and use it inside
 * one tidy: every tensor, y included, belongs to that scope.
 */
export interface TrainingBatch { x: tf.Tensor4D; readonly y: tf.Tensor1D; indices: tf.Tensor1D }

/** The `TrainingBatch` of `indices` (no tidy of its own: see TrainingBatch). */
export function trainingBatch(r: ResidentDataset, indices: Int32Array): TrainingBatch {
  const idx = tf.tensor1d(indices, 'int32');
  let y: tf.Tensor1D | null = null;
  return {
    x: tf.gather(r.x, idx) as tf.Tensor4D,
    indices: idx,
    get y() { return (y ??= tf.gather(r.y, idx) as tf.Tensor1D); },
  };
}

/** Gathers a batch on the backend: x [B, 28, 28, 1], y int32 [B]. Caller disposes (or tidies). */
export function gatherBatch(r: ResidentDataset, indices: Int32Array): { x: tf.Tensor4D; y: tf.Tensor1D } {
  return tf.tidy(() => {
    const idx = tf.tensor1d(indices, 'int32');
    return { x: tf.gather(r.x, idx) as tf.Tensor4D, y: tf.gather(r.y, idx) as tf.Tensor1D };
  });
}
