/**
 * Small learnable synthetic tasks for fast unit tests: each class lights up its own band of rows
 * (plus noise), so an MLP or a tiny conv net learns it in a few steps.
 */
import type { Dataset, TaskData } from '../core/types';

/** count images, numClasses classes, seeded; class k brightens rows [k*h, (k+1)*h) with h = 28/numClasses. */
export function syntheticDataset(count: number, numClasses: number, seed: number, flip = false): Dataset {
  let s = seed >>> 0;
  const rnd = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296; };
  const images = new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  const band = Math.floor(28 / numClasses);
  for (let n = 0; n < count; n++) {
    const y = n % numClasses;
    labels[n] = y;
    for (let r = 0; r < 28; r++) {
      for (let c = 0; c < 28; c++) {
        const row = flip ? c : r;
        const on = row >= y * band && row < (y + 1) * band;
        images[n * 784 + r * 28 + c] = Math.min(255, Math.floor(rnd() * 90 + (on ? 140 : 0)));
      }
    }
  }
  return { images, labels, count, numClasses };
}

/** A synthetic task with train and test splits. */
export function syntheticTask(id: string, numClasses: number, seed: number, flip = false, trainCount = 256, testCount = 128): TaskData {
  return { id, name: id, train: syntheticDataset(trainCount, numClasses, seed, flip), test: syntheticDataset(testCount, numClasses, seed + 1, flip) };
}
