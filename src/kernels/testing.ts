/**
 * Test helpers for src/kernels: run one kernel on a backend with stock or fast kernels, compare
 * with a relative error, and set up the wasm backend under Vitest/Node.
 */
import * as tf from '@tensorflow/tfjs';
import { registerFastKernels, restoreStockKernels } from './register';

export interface KernelCase {
  kernel: string;
  inputs: Record<string, { shape: number[]; values: Float32Array }>;
  attrs: Record<string, unknown>;
}

/** max |a − b| / max |b| (0 when both are all zero). */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= diff)) diff = d;
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff === 0 ? 0 : diff / Math.max(scale, 1e-30);
}

/** Seeded uniform values in [−1, 1). */
export function randomValues(size: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}

/** Runs `c` on `backendName` with tfjs's own kernels (`stock`) or ours; returns output shape and data. */
export async function runKernelOn(
  backendName: string, c: KernelCase, stock: boolean,
): Promise<{ shape: number[]; values: Float32Array }> {
  await tf.setBackend(backendName);
  if (stock) restoreStockKernels(backendName); else registerFastKernels(backendName);
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, t] of Object.entries(c.inputs)) tensors[name] = tf.tensor(t.values, t.shape, 'float32');
  const out = tf.engine().runKernel(c.kernel, tensors as unknown as tf.NamedTensorMap, c.attrs as tf.NamedAttrMap) as tf.Tensor;
  const values = (await out.data()) as Float32Array;
  const result = { shape: out.shape, values };
  out.dispose();
  for (const t of Object.values(tensors)) t.dispose();
  return result;
}

let wasmReady: Promise<boolean> | undefined;

/**
 * Registers tfjs-backend-wasm under Node (imported through its ESM build, so it shares tfjs-core with
 * the tests). Resolves false if it cannot start here.
 */
export function setupWasmForTests(): Promise<boolean> {
  wasmReady ??= (async () => {
    try {
      const wasm = await import('@tensorflow/tfjs-backend-wasm/dist/index.js');
      const dir = new URL('../../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url);
      wasm.setWasmPaths(decodeURIComponent(dir.pathname));
      const ok = await tf.setBackend('wasm');
      await tf.setBackend('cpu');
      return ok;
    } catch {
      return false;
    }
  })();
  return wasmReady;
}
