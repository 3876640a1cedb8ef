/**
 * A small seeded PRNG for the core (batch order, subsampling). Same seed → same sequence on every
 * backend and machine. mulberry32: 32-bit state, period 2^32, plenty for shuffling.
 */
export interface SeededRandom {
  /** uniform in [0, 1) */
  next(): number;
  /** a random permutation of 0..n-1 (Fisher–Yates) */
  permutation(n: number): Int32Array;
}

/** Creates a seeded random stream. */
export function seededRandom(seed: number): SeededRandom {
  let state = (seed >>> 0) ^ 0x9e3779b9;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    permutation(n) {
      const p = new Int32Array(n);
      for (let i = 0; i < n; i++) p[i] = i;
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        const tmp = p[i]; p[i] = p[j]; p[j] = tmp;
      }
      return p;
    },
  };
}
