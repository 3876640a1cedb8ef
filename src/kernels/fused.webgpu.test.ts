/**
 * The fused training kernels of the webgpu backend (softmax cross-entropy, ...) against the core's
 * composite tfjs ops differentiated by tfjs's autodiff on cpu: random shapes, odd sizes, batch 1,
 * rel. err ≤ 1e-4 on value and gradient. Dawn + SwiftShader in Node; skipped, saying why, without
 * a WebGPU adapter.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { crossEntropy, crossEntropyComposite } from '../core/losses';
import { registerFastKernels, restoreStockKernels } from './register';
import { randomValues, relativeError } from './testing';
import { gpuErrors, setupWebGPU } from './webgpuTesting';

const unavailable = await setupWebGPU();

afterAll(async () => {
  if (!unavailable) restoreStockKernels('webgpu');
  await tf.setBackend('cpu');
});

/** Loss and ∂loss/∂logits of `loss` on the active backend, read back. */
async function lossAndGrad(
  loss: (z: tf.Tensor2D, y: tf.Tensor1D) => tf.Scalar, logits: Float32Array, labels: Int32Array, shape: [number, number],
): Promise<{ value: Float32Array; grad: Float32Array }> {
  const z = tf.tensor2d(logits, shape);
  const y = tf.tensor1d(labels, 'int32');
  const { value, grad } = tf.valueAndGrad((t: tf.Tensor) => loss(t as tf.Tensor2D, y))(z);
  const out = { value: (await value.data()) as Float32Array, grad: (await grad.data()) as Float32Array };
  tf.dispose([z, y, value, grad]);
  return out;
}

describe.skipIf(unavailable !== null)(`fused webgpu kernels (SwiftShader here; ${unavailable ?? 'adapter found'})`, () => {
  it('softmax cross-entropy: loss and gradient = tfjs autodiff of the composite on cpu (batch 1, odd sizes, out-of-range label)', async () => {
    const shapes: [number, number][] = [[1, 10], [7, 3], [128, 10], [5, 2], [33, 17], [2, 100]];
    for (const [i, [n, k]] of shapes.entries()) {
      // logits up to ±8 so softmax is far from uniform; labels in range except one -1 in the last case
      const logits = randomValues(n * k, 70 + i).map((x) => 8 * x);
      const labels = new Int32Array(n).map((_, r) => (i === shapes.length - 1 && r === 0 ? -1 : (r * 7 + i) % k));
      await tf.setBackend('cpu');
      const ref = await lossAndGrad(crossEntropyComposite, logits, labels, [n, k]);
      await tf.setBackend('webgpu');
      registerFastKernels('webgpu');
      const before = tf.memory().numTensors;
      const got = await lossAndGrad(crossEntropy, logits, labels, [n, k]);
      expect(tf.memory().numTensors, 'no leaked tensors').toBe(before);
      expect(gpuErrors).toEqual([]);
      const label = `[${n}, ${k}]`;
      expect(relativeError(got.value, ref.value), `${label} loss ${got.value[0]} vs ${ref.value[0]}`).toBeLessThanOrEqual(1e-4);
      expect(relativeError(got.grad, ref.grad), `${label} gradient`).toBeLessThanOrEqual(1e-4);
    }
  });

  it('softmax cross-entropy without the kernel registered is the composite (stock path unchanged)', async () => {
    await tf.setBackend('webgpu');
    restoreStockKernels('webgpu');
    const logits = randomValues(12, 5);
    const labels = new Int32Array([0, 2, 1]);
    const a = await lossAndGrad(crossEntropy, logits, labels, [3, 4]);
    const b = await lossAndGrad(crossEntropyComposite, logits, labels, [3, 4]);
    expect(Array.from(a.value)).toEqual(Array.from(b.value));
    expect(Array.from(a.grad)).toEqual(Array.from(b.grad));
  });
});
