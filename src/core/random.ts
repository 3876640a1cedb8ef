/**
 * The core's seeded stream (batch order, subsampling): the data layer's mulberry32 (`data/rng.ts`),
 * with the seed mixed so the core's streams differ from the data layer's for the same user seed.
 * Same seed → same sequence on every backend and machine.
 */
import { createRng } from '../data/rng';

export interface SeededRandom {
  /** uniform in [0, 1) */
  next(): number;
  /** a random permutation of 0..n-1 (Fisher–Yates) */
  permutation(n: number): Int32Array;
}

/** Creates a seeded random stream. */
export function seededRandom(seed: number): SeededRandom {
  const rng = createRng(((seed >>> 0) ^ 0x9e3779b9) >>> 0);
  return { next: rng.next, permutation: (n) => Int32Array.from(rng.permutation(n)) };
}
