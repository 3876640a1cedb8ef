/**
 * A small seeded pseudo-random number generator (mulberry32) so that every split, subset, shuffle and
 * pixel permutation is reproducible: the same seed gives the same sequence in Node, in a Web Worker,
 * in the browser and in `scripts/prepare-data.mjs` (which loads this file through esbuild: no copy).
 *
 * mulberry32 is not cryptographic; it has a 2^32 period, which is plenty for shuffling datasets.
 */

/** A seeded random source. All methods advance the same internal state. */
export interface Rng {
  /** The next float, uniform in [0, 1). */
  next(): number;
  /** The next integer, uniform in [0, n). `n` must be a positive integer ≤ 2^32. */
  int(n: number): number;
  /**
   * Shuffles `array` in place (Fisher–Yates, from the end: for i = n-1..1 swap a[i] with a[int(i+1)])
   * and returns it.
   */
  shuffle<T extends { length: number; [index: number]: unknown }>(array: T): T;
  /** A uniformly random permutation of 0..n-1 (the identity, shuffled with {@link Rng.shuffle}). */
  permutation(n: number): Uint32Array;
}

/** Throws a RangeError unless `seed` is a safe integer (negative values are fine: the seed is taken mod 2^32). */
function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`seed must be an integer, got ${String(seed)}`);
  }
}

/**
 * Creates a mulberry32 generator. The state is `seed >>> 0` (the seed taken mod 2^32), so seeds that
 * differ by a multiple of 2^32 give the same sequence.
 *
 * @param seed an integer seed
 * @throws RangeError when `seed` is not a safe integer
 */
export function createRng(seed: number): Rng {
  checkSeed(seed);
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296) {
      throw new RangeError(`int(n) needs a positive integer n ≤ 2^32, got ${String(n)}`);
    }
    return Math.floor(next() * n);
  };
  const shuffle = <T extends { length: number; [index: number]: unknown }>(array: T): T => {
    for (let i = array.length - 1; i > 0; i--) {
      const j = int(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  };
  const permutation = (n: number): Uint32Array => {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`permutation(n) needs an integer n ≥ 0, got ${String(n)}`);
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return shuffle(p);
  };
  return { next, int, shuffle, permutation };
}

/**
 * Derives an independent 32-bit seed from a base seed and a label (FNV-1a over the label, mixed with
 * the seed), so that e.g. the pixel permutation and the training subset of a scenario use different
 * streams: `createRng(deriveSeed(seed, 'mnist-perm'))`.
 *
 * @param seed an integer base seed
 * @param label any string naming the purpose of the stream
 * @returns an unsigned 32-bit integer
 */
export function deriveSeed(seed: number, label: string): number {
  checkSeed(seed);
  let h = 0x811c9dc5 ^ (seed >>> 0);
  h = Math.imul(h, 0x01000193) >>> 0;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // Final avalanche (murmur3 fmix32) so nearby labels give unrelated seeds.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}
