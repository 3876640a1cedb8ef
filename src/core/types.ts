/**
 * Plain data types the core consumes. They are structural so that `src/data`'s `Task` and
 * `LabeledImages` fit them without `core` importing anything from the app (ARCHITECTURE.md rule 1).
 */

/** Labelled 28x28 grayscale images. Pixels are uint8; the network input is pixel / 255 in [0, 1]. */
export interface Dataset {
  /** count * 784 bytes, row-major 28x28. */
  images: Uint8Array;
  /** count labels in 0..numClasses-1. */
  labels: Uint8Array;
  count: number;
  numClasses: number;
}

/** One task of a sequence: its own label space and its own head. */
export interface TaskData {
  id: string;
  name: string;
  train: Dataset;
  test: Dataset;
}

/** Side length of the square input images; inputs are [N, 28, 28, 1]. */
export const IMAGE_SIZE = 28;
export const IMAGE_PIXELS = IMAGE_SIZE * IMAGE_SIZE;
