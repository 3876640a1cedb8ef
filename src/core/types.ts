/**
 * Plain data types the core consumes. They are structural so that `src/data`'s `Task` and
 * `LabeledImages` fit them without `core` importing anything from the app (docs/ARCHITECTURE.md).
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

/** Side length of the square input images (inputs are [N, 28, 28, 1]) and pixels per image: defined in src/data. */
export { IMAGE_SIDE as IMAGE_SIZE, IMAGE_PIXELS } from '../data/types';
