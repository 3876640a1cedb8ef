/**
 * `node scripts/run-ts.mjs scripts/crosscheckConvGrad.ts <wasm|cpu> OUT.f32`: the lab's conv filter
 * gradient (Conv2DBackpropFilter, on wasm src/kernels/convGrad.ts: one XNNPACK forward conv summing
 * N·H·W float32 terms per element) on seeded random inputs of conv4-quarter-width shapes, written as
 * float32 [x, dy, dW] per case for scripts/crosscheck_convgrad.py, which compares it, and PyTorch
 * float32's, with float64 (docs/CROSSCHECK.md: is the lab's filter gradient less accurate?).
 */
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { useBackend, type ScriptBackend } from './backend';

/** [n, h, w, ci, co] of conv1..conv4 at width 0.25, batch 128, 3×3 'same' (crosscheck_convgrad.py reads the same list). */
const CONV_GRAD_CASES = [[128, 28, 28, 1, 8], [128, 28, 28, 8, 8], [128, 14, 14, 8, 16], [128, 14, 14, 16, 16]] as const;

async function main(): Promise<void> {
  const [name, out] = process.argv.slice(2);
  if (!['wasm', 'cpu'].includes(name) || !out) throw new Error('usage: node scripts/run-ts.mjs scripts/crosscheckConvGrad.ts <wasm|cpu> OUT.f32');
  await useBackend(name as ScriptBackend);
  let state = 1;
  /** n uniform values in [-1, 1) from a fixed LCG (reproducible, no dependency). */
  const uniform = (n: number) => Float32Array.from({ length: n }, () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return (state / 2147483648) * 2 - 1;
  });
  const chunks: Buffer[] = [];
  for (const [n, h, w, ci, co] of CONV_GRAD_CASES) {
    const x = uniform(n * h * w * ci).map((v) => Math.max(0, v)); // ReLU outputs: half zeros
    const dy = uniform(n * h * w * co).map((v) => v * 1e-3);
    const dw = tf.tidy(() => {
      const xt = tf.tensor4d(x, [n, h, w, ci]);
      const dyt = tf.tensor4d(dy, [n, h, w, co]);
      // d/dk Σ conv2d(x, k) ⊙ dy = Conv2DBackpropFilter(x, dy)
      return tf.grad((k: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(xt, k as tf.Tensor4D, 1, 'same'), dyt)))(tf.zeros([3, 3, ci, co]));
    });
    const grad = Float32Array.from(await dw.data());
    dw.dispose();
    for (const a of [x, dy, grad]) chunks.push(Buffer.from(a.buffer));
  }
  writeFileSync(out, Buffer.concat(chunks));
  console.log(`wrote ${CONV_GRAD_CASES.length} filter gradients from ${tf.getBackend()} to ${out}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
