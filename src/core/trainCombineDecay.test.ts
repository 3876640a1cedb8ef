/** The combine stage's weight-decay setting (train.ts `CombineDecay`, docs/METHOD.md). */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { syntheticTask } from '../testing/synthetic';
import { expectNoTensorLeak } from '../testing/tensors';
import { disposeResident, makeResident } from './batches';
import { buildCombined, disposeCombinedAlphas, newHead, type CombinedNet } from './combine';
import { addHead, buildNet, cloneNet, disposeNet, type NetKind } from './nets';
import { combineDecayedVariables, runToEnd, trainCombined, type CombineDecay, type StageOptions } from './train';

const taskB = syntheticTask('b', 3, 5, true);

/** net_c from a fresh source and a copy with a new head; γ_t, β_t, b_t set away from 0 and 1. */
function combinedOf(kind: NetKind): CombinedNet {
  const source = buildNet(kind, 1, 0.125);
  addHead(source, 'a', 4, 1);
  const target = cloneNet(source);
  addHead(target, 'b', 3, 2);
  tf.tidy(() => {
    for (const u of target.units.values()) {
      u.bias?.assign(tf.fill(u.bias.shape, 0.5));
      u.bn?.gamma.assign(tf.fill(u.bn.gamma.shape, 1.5));
      u.bn?.beta.assign(tf.fill(u.bn.beta.shape, -0.5));
    }
  });
  return buildCombined(source, target);
}

function disposeAll(c: CombinedNet): void {
  disposeCombinedAlphas(c);
  disposeNet(c.source);
  disposeNet(c.target);
}

/** The non-kernel target parameters: BN γ_t, β_t and biases b_t, by unit and role. */
function nonKernelVariables(c: CombinedNet): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  for (const [id, u] of c.target.units) {
    if (u.bias) out.set(`${id} b`, u.bias);
    if (u.bn) out.set(`${id} γ`, u.bn.gamma).set(`${id} β`, u.bn.beta);
  }
  return out;
}

function nonKernels(c: CombinedNet): Map<string, Float32Array> {
  return new Map([...nonKernelVariables(c)].map(([k, v]) => [k, v.dataSync() as Float32Array]));
}

const meanAbs = (a: Float32Array) => a.reduce((s, x) => s + Math.abs(x), 0) / a.length;

describe('combine-stage weight decay (CombineDecay)', () => {
  it("'all' adds γ_t, β_t, b_t and the new head's bias to the decayed variables; 'kernels' has kernels only", () => {
    for (const kind of ['mlp', 'conv4'] as const) {
      const c = combinedOf(kind);
      const names = (d: CombineDecay) => combineDecayedVariables(c, d).map((v) => v.name);
      const kernels = names('kernels');
      const all = names('all');
      const extra = [...nonKernelVariables(c)];
      expect(extra.length, kind).toBeGreaterThan(0);
      for (const [label, v] of extra) {
        expect(kernels, `${kind} 'kernels' leaves ${label}`).not.toContain(v.name);
        expect(all, `${kind} 'all' decays ${label}`).toContain(v.name);
      }
      expect(all).toContain(newHead(c).bias.name);
      expect(kernels.every((n) => all.includes(n))).toBe(true);
      expect(combineDecayedVariables(c).map((v) => v.name)).toEqual(kernels);
      disposeAll(c);
    }
  });

  it("pure decay (α_t = 0, α frozen): 'all' shrinks γ_t, β_t, b_t, 'kernels' leaves them exactly; no tensor leak", async () => {
    const b = makeResident(taskB.train);
    // weight decay dominates; α_t = 0 cuts every KD gradient to θ_t, alpha learning rate 0 keeps it there
    const opts: StageOptions = { epochs: 1, batchSize: 8, learningRate: 1e-2, weightDecay: 1, seed: 1, reportIntervalMs: 0, maxSteps: 3 };
    for (const kind of ['mlp', 'conv4'] as const) {
      const after: Record<CombineDecay, Map<string, Float32Array>> = { kernels: new Map(), all: new Map() };
      let before = new Map<string, Float32Array>();
      for (const decay of ['kernels', 'all'] as const) {
        const c = combinedOf(kind);
        tf.tidy(() => { for (const a of c.alphaTarget.values()) a.assign(tf.zerosLike(a)); });
        before = nonKernels(c);
        await expectNoTensorLeak(async () => {
          await runToEnd(trainCombined(c, b, { ...opts, lambda: 0, alphaLearningRate: 0, targetBatchNorm: 'inference', decay }));
        });
        after[decay] = nonKernels(c);
        disposeAll(c);
      }
      for (const [name, x0] of before) {
        expect(Array.from(after.kernels.get(name)!), `${kind} ${name} unchanged under 'kernels'`).toEqual(Array.from(x0));
        // Adam moves each element about one learning rate per step toward 0: 3 steps ≈ 0.03
        expect(meanAbs(after.all.get(name)!), `${kind} ${name} shrinks under 'all'`).toBeLessThan(meanAbs(x0) - 0.02);
      }
    }
    disposeResident(b);
  }, 120_000); // conv4 on the cpu backend
});
