import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { expectNoTensorLeak } from '../testing/tensors';
import { ADAM_BETA1, ADAM_BETA2, ADAM_KERNEL, createAdam, type AdamUpdateAttrs, type FusedAdam } from './optimizer';

/**
 * core never imports src/kernels (the real kernels are checked there against tf.train.adam). Here a
 * recording kernel stands in for them on cpu: it returns copies of θ and [m; v] and keeps what it
 * was given, so the optimiser's constants and bookkeeping can be checked on their own.
 */
interface Call { attrs: AdamUpdateAttrs; valueShape: number[]; momentsShape: number[]; momentsDataId: object }
const calls: Call[] = [];
let returned: object[] = [];

interface CpuLike { data: { get(id: object): { values: Float32Array } }; makeTensorInfo(s: number[], d: 'float32', v: Float32Array): tf.TensorInfo }

function registerRecorder(): void {
  tf.registerKernel({
    kernelName: ADAM_KERNEL, backendName: 'cpu',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { value, moments } = inputs as unknown as Record<string, tf.TensorInfo>;
      const cpu = backend as unknown as CpuLike;
      calls.push({ attrs: { ...(attrs as unknown as AdamUpdateAttrs) }, valueShape: value.shape, momentsShape: moments.shape, momentsDataId: moments.dataId });
      const newValue = cpu.makeTensorInfo(value.shape, 'float32', cpu.data.get(value.dataId).values.slice());
      const newMoments = cpu.makeTensorInfo(moments.shape, 'float32', cpu.data.get(moments.dataId).values.slice());
      returned.push(newMoments.dataId);
      return [newValue, newMoments];
    },
  });
}

afterEach(() => {
  if (tf.getKernel(ADAM_KERNEL, 'cpu')) tf.unregisterKernel(ADAM_KERNEL, 'cpu');
  calls.length = 0;
  returned = [];
});

describe('createAdam', () => {
  it('without the kernel registered is tfjs Adam (same numbers as tf.train.adam)', () => {
    expect(tf.getBackend()).toBe('cpu');
    const a = tf.variable(tf.tensor([0.5, -1, 2]), true, 'optFallbackA');
    const b = tf.variable(tf.tensor([0.5, -1, 2]), true, 'optFallbackB');
    const ours = createAdam(0.1);
    const theirs = tf.train.adam(0.1);
    expect(ours.fused).toBe(false);
    for (let s = 0; s < 5; s++) {
      const g = tf.tensor([1, -2, 0.25 * s]);
      ours.applyGradients([{ name: a.name, tensor: g }]);
      theirs.applyGradients([{ name: b.name, tensor: g }]);
      g.dispose();
    }
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(Array.from(a.dataSync())).not.toEqual([0.5, -1, 2]);
    ours.dispose();
    theirs.dispose();
    tf.dispose([a, b]);
  });

  it('with the kernel registered passes tfjs Adam\'s float32 constants, step by step', () => {
    registerRecorder();
    const lr = 3e-3;
    const v = tf.variable(tf.zeros([4, 3]), true, 'optConstants');
    const w = tf.variable(tf.zeros([2]), true, 'optConstants2');
    const opt = createAdam(lr);
    expect(opt.fused).toBe(true);
    // tfjs's own running products β^t, read from the reference optimiser before each of its steps
    const reference = tf.train.adam(lr);
    const acc = reference as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable };
    const ref = tf.variable(tf.zeros([1]), true, 'optConstantsRef');
    const g = [tf.ones([4, 3]), tf.ones([2])];
    const steps = 30;
    for (let s = 0; s < steps; s++) {
      const expected1 = Math.fround(1 - acc.accBeta1.dataSync()[0]);
      const expected2 = Math.fround(1 - acc.accBeta2.dataSync()[0]);
      opt.applyGradients([{ name: v.name, tensor: g[0] }, { name: w.name, tensor: g[1] }]);
      reference.applyGradients([{ name: ref.name, tensor: tf.onesLike(ref) }]);
      const step = calls.slice(2 * s, 2 * s + 2);
      expect(step.length).toBe(2);
      for (const c of step) {
        expect(c.attrs.biasCorrection1, `step ${s + 1}`).toBe(expected1);
        expect(c.attrs.biasCorrection2, `step ${s + 1}`).toBe(expected2);
      }
    }
    const first = calls[0].attrs;
    expect(first).toEqual({
      beta1: Math.fround(ADAM_BETA1), oneMinusBeta1: Math.fround(1 - ADAM_BETA1),
      beta2: Math.fround(ADAM_BETA2), oneMinusBeta2: Math.fround(1 - ADAM_BETA2),
      biasCorrection1: Math.fround(1 - Math.fround(ADAM_BETA1)), biasCorrection2: Math.fround(1 - Math.fround(ADAM_BETA2)),
      epsilon: Math.fround(tf.backend().epsilon()), negLearningRate: Math.fround(-lr), decay: 0, l1: 0,
    });
    // moments are [2, n] per variable, and each step gets the moments the previous step returned
    expect(calls[0].valueShape).toEqual([4, 3]);
    expect(calls[0].momentsShape).toEqual([2, 12]);
    expect(calls[1].momentsShape).toEqual([2, 2]);
    for (let i = 2; i < calls.length; i++) expect(calls[i].momentsDataId).toBe(returned[i - 2]);
    expect((opt as FusedAdam).momentsOf(v.name)?.dataId).toBe(returned[returned.length - 2]);
    opt.dispose();
    reference.dispose();
    tf.dispose([v, w, ref, ...g]);
  });

  it('fused: a gradient for an unknown variable name is an error', () => {
    registerRecorder();
    const opt = createAdam(1e-3);
    const g = tf.ones([2]);
    expect(() => opt.applyGradients([{ name: 'no-such-variable', tensor: g }])).toThrow(/no variable named 'no-such-variable'/);
    opt.dispose();
    g.dispose();
  });

  for (const fusedPath of [false, true]) {
    it(`${fusedPath ? 'fused' : 'tfjs'} path leaks no tensors over steps and frees its moments on dispose`, async () => {
      if (fusedPath) registerRecorder();
      const vars = [tf.variable(tf.ones([3, 2]), true, `optLeak${fusedPath}0`), tf.variable(tf.ones([5]), true, `optLeak${fusedPath}1`)];
      const grads = vars.map((x) => tf.onesLike(x));
      const list = vars.map((x, i) => ({ name: x.name, tensor: grads[i] }));
      const before = tf.memory().numTensors;
      await expectNoTensorLeak(() => {
        const opt = createAdam(1e-3);
        expect(opt.fused).toBe(fusedPath);
        for (let s = 0; s < 4; s++) opt.applyGradients(list);
        opt.dispose();
      });
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([...vars, ...grads]);
    });
  }
});
