/**
 * Test helpers that move a network's parameters off their initial values, so that a test of
 * folding or of gradients has every term to get wrong (BN statistics, γ, β, biases, α).
 */
import * as tf from '@tensorflow/tfjs';
import type { CombinedNet } from '../core/combine';
import { addHead, buildNet, cloneNet, type Net, type NetKind } from '../core/nets';

/**
 * A source network (seed 1) with a head for task 'a', and its copy with a head for task 'b' added
 * as the target: the pair `buildCombined` takes. The caller disposes both.
 */
export function sourceAndTarget(kind: NetKind, width: number, classes: { a: number; b: number }, headSeeds = { a: 1, b: 2 }): { source: Net; target: Net } {
  const source = buildNet(kind, 1, width);
  addHead(source, 'a', classes.a, headSeeds.a);
  const target = cloneNet(source);
  addHead(target, 'b', classes.b, headSeeds.b);
  return { source, target };
}

/** Seeded random BN statistics, γ, β and biases for every unit of `net`. */
export function randomizeNet(net: Net, seed: number): void {
  let s = seed;
  const rnd = (shape: number[], lo: number, hi: number) => tf.randomUniform(shape, lo, hi, 'float32', s++);
  for (const u of net.units.values()) {
    if (u.bn) {
      const c = u.spec.outChannels;
      u.bn.gamma.assign(rnd([c], 0.5, 1.5));
      u.bn.beta.assign(rnd([c], -0.5, 0.5));
      u.bn.movingMean.assign(rnd([c], -0.5, 0.5));
      u.bn.movingVariance.assign(rnd([c], 0.2, 2));
    }
    if (u.bias) u.bias.assign(rnd(u.bias.shape, -0.2, 0.2));
  }
}

/** Seeded random α: α_s in [−1, 0.5), α_t in [−0.5, 1). */
export function randomizeAlphas(c: CombinedNet, seed: number): void {
  let s = seed;
  for (const v of c.alphaSource.values()) v.assign(tf.randomUniform(v.shape, -1, 0.5, 'float32', s++));
  for (const v of c.alphaTarget.values()) v.assign(tf.randomUniform(v.shape, -0.5, 1, 'float32', s++));
}
