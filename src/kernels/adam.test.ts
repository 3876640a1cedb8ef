import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { ADAM_GROUP_KERNEL, ADAM_KERNEL, createAdam } from '../core/optimizer';
import { expectNoTensorLeak } from '../testing/tensors';
import { compareAdam, useAdamKernel } from './adamCheck';
import { fastKernelNames, registerFastKernels, restoreStockKernels } from './register';
import { setupWasmForTests } from './testing';

const STEPS = 20;
const TOL = 1e-5;

const wasmOk = await setupWasmForTests();

afterAll(async () => {
  restoreStockKernels('cpu');
  if (wasmOk) restoreStockKernels('wasm');
  await tf.setBackend('cpu');
});

/** Variables of the given shapes and seeded gradients for them (caller disposes both). */
function variablesAndGrads(shapes: number[][], prefix: string): { vars: tf.Variable[]; grads: tf.Tensor[] } {
  const vars = shapes.map((s, k) => tf.variable(tf.randomUniform(s, -1, 1, 'float32', k + 1), true, `${prefix}${k}`));
  const grads = shapes.map((s, k) => tf.randomUniform(s, -1, 1, 'float32', k + 101));
  return { vars, grads };
}

describe(`fused Adam (${ADAM_KERNEL}) = tf.train.adam over ${STEPS} steps (rel. err ≤ ${TOL}, values and moments)`, () => {
  for (const backendName of ['cpu', 'wasm']) {
    it.skipIf(backendName === 'wasm' && !wasmOk)(`${backendName}: shapes [1], [7], [33,5], [3,3,2,5], [1031]`, async () => {
      const r = await compareAdam(backendName, STEPS);
      expect(tf.getBackend()).toBe(backendName);
      console.log(`fused Adam on ${backendName} vs tfjs cpu: rel. err value ${r.value}, m ${r.m}, v ${r.v}`);
      expect(r.fused).toBe(true);
      expect(r.value).toBeLessThanOrEqual(TOL);
      expect(r.m).toBeLessThanOrEqual(TOL);
      expect(r.v).toBeLessThanOrEqual(TOL);
    });
  }
});

describe(`fused Adam with a folded weight decay / L1 term = tf.train.adam on g + autodiff of (λ/2)‖θ‖² / λ‖θ‖₁ over ${STEPS} steps`, () => {
  for (const backendName of ['cpu', 'wasm']) {
    it.skipIf(backendName === 'wasm' && !wasmOk)(`${backendName}: λ_dec = 0.3 on every other variable, L1 λ = 0.05 on the rest (rel. err ≤ ${TOL})`, async () => {
      const r = await compareAdam(backendName, STEPS, 1e-2, 0.3, 0.05);
      expect(tf.getBackend()).toBe(backendName);
      expect(r.fused).toBe(true);
      expect(r.value).toBeLessThanOrEqual(TOL);
      expect(r.m).toBeLessThanOrEqual(TOL);
      expect(r.v).toBeLessThanOrEqual(TOL);
    });
  }

  it('tfjs\'s own Adam refuses a decay it cannot fold (foldsDecay false)', async () => {
    await tf.setBackend('cpu');
    restoreStockKernels('cpu');
    const stock = createAdam(1e-3);
    expect(stock.foldsDecay).toBe(false);
    const v = tf.variable(tf.ones([3]), true, 'adamNoFold');
    const g = tf.ones([3]);
    expect(() => stock.applyGradients([{ name: v.name, tensor: g, decay: 1e-4 }])).toThrow(/cannot fold a weight decay/);
    stock.dispose();
    tf.dispose([v, g]);
  });
});

describe('createAdam picks the fused kernel only where it is registered', () => {
  it('is one of the kernels registerFastKernels adds on cpu and webgpu, not on wasm (tfjs-wasm\'s Adam is faster)', () => {
    for (const b of ['cpu', 'webgpu']) expect(fastKernelNames(b)).toContain(ADAM_KERNEL);
    expect(fastKernelNames('wasm')).not.toContain(ADAM_KERNEL);
  });

  it('restoreStockKernels removes it (tfjs Adam), registerFastKernels puts it back (fused)', async () => {
    await tf.setBackend('cpu');
    registerFastKernels('cpu');
    expect(tf.getKernel(ADAM_KERNEL, 'cpu')).toBeDefined();
    const fused = createAdam(1e-3);
    expect(fused.fused).toBe(true);
    fused.dispose();
    restoreStockKernels('cpu');
    expect(tf.getKernel(ADAM_KERNEL, 'cpu')).toBeUndefined();
    const stock = createAdam(1e-3);
    expect(stock.fused).toBe(false);
    stock.dispose();
  });

  it('runs one group kernel per step for all variables (tfjs: ~14 per variable plus 4 per step)', async () => {
    await tf.setBackend('cpu');
    const shapes = [[4, 3], [3], [2, 2, 1, 3]];
    const { vars, grads } = variablesAndGrads(shapes, 'adamCount');
    const count = async (fusedKernels: boolean): Promise<{ fused: boolean; kernels: string[] }> => {
      if (fusedKernels) registerFastKernels('cpu'); else restoreStockKernels('cpu');
      const opt = createAdam(1e-2);
      const list = vars.map((v, k) => ({ name: v.name, tensor: grads[k] }));
      opt.applyGradients(list); // first step creates the moments
      const profile = await tf.profile(() => opt.applyGradients(list));
      opt.dispose();
      return { fused: opt.fused, kernels: profile.kernels.map((k) => k.name) };
    };
    const fused = await count(true);
    const stock = await count(false);
    tf.dispose([...vars, ...grads]);
    console.log(`kernels per step for ${shapes.length} variables: fused ${fused.kernels.length}, tfjs ${stock.kernels.length}`);
    expect(fused.fused).toBe(true);
    expect(stock.fused).toBe(false);
    expect(fused.kernels).toEqual([ADAM_GROUP_KERNEL]);
    expect(stock.kernels.length).toBeGreaterThan(10 * shapes.length);
  });

  it('rejects a gradient whose size differs from the variable', async () => {
    await tf.setBackend('cpu');
    registerFastKernels('cpu');
    const v = tf.variable(tf.zeros([3, 2]), true, 'adamBadShape');
    const g = tf.zeros([5]);
    const opt = createAdam(1e-3);
    expect(() => opt.applyGradients([{ name: v.name, tensor: g }])).toThrow(/float32 value and gradient of one size/);
    opt.dispose();
    tf.dispose([v, g]);
  });
});

describe('fused Adam leaks no tensors', () => {
  for (const backendName of ['cpu', 'wasm']) {
    it.skipIf(backendName === 'wasm' && !wasmOk)(`${backendName}: steps keep the tensor count; dispose frees the moments`, async () => {
      await tf.setBackend(backendName);
      const undo = useAdamKernel(backendName);
      const { vars, grads } = variablesAndGrads([[5, 4], [4], [1]], `adamLeak${backendName}`);
      const list = vars.map((v, k) => ({ name: v.name, tensor: grads[k] }));
      const before = tf.memory().numTensors;
      await expectNoTensorLeak(() => {
        const opt = createAdam(1e-3);
        expect(opt.fused).toBe(true);
        opt.applyGradients(list);
        const afterFirst = tf.memory().numTensors;
        // one [2, n] moments tensor per variable, and nothing more
        expect(afterFirst - before).toBe(vars.length);
        for (let s = 0; s < 5; s++) {
          opt.applyGradients(list);
          expect(tf.memory().numTensors).toBe(afterFirst);
        }
        opt.dispose();
      });
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([...vars, ...grads]);
      undo();
    });
  }
});
