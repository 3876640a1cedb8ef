/**
 * Backend setup for the Node scripts. 'cpu' is tfjs's pure-JS backend. 'webgpu' runs
 * tfjs-backend-webgpu on Dawn (npm `webgpu`): on the real GPU where Vulkan has one, else on
 * SwiftShader (VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json). The device is requested
 * with the adapter's own limits (engine/backend.ts). tfjs silently falls back to cpu when no adapter
 * is found, so the chosen backend is always checked.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/engine/backend';
import { registerFastKernels } from '../src/kernels';

export type ScriptBackend = 'cpu' | 'wasm' | 'webgpu';

export interface UseBackendOptions {
  /** Keep tfjs's own kernels only (no src/kernels replacements): the `--stock` baseline. */
  stock?: boolean;
}

/**
 * Sets the backend and, unless `stock`, registers the lab's faster kernels on it (src/kernels).
 * Returns the backend name.
 */
export async function useBackend(name: ScriptBackend, options: UseBackendOptions = {}): Promise<string> {
  if (name === 'cpu') {
    await tf.setBackend('cpu');
  } else if (name === 'wasm') {
    // tfjs-wasm (XNNPACK, SIMD; single-threaded in Node). Its own kernels have no
    // Conv2DBackpropFilter, so convnets train on wasm only with src/kernels registered.
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(`${process.cwd()}/node_modules/@tensorflow/tfjs-backend-wasm/dist/`);
    await tf.setBackend('wasm');
  } else {
    const dawn = (await import('webgpu')) as { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
    Object.assign(globalThis, dawn.globals);
    const gpu = dawn.create([]);
    // tfjs-backend-webgpu checks navigator.gpu, which Node does not have.
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
    const selection = await selectBackend('webgpu', { gpu, onFatalGpuError: (m) => { throw new Error(`WebGPU error: ${m}`); } });
    if (selection.backend !== 'webgpu') {
      throw new Error(`WebGPU unavailable: ${selection.refused.map((r) => `${r.name}: ${r.reason}`).join('; ')}`);
    }
    console.error(`webgpu adapter: ${JSON.stringify(selection.adapterInfo)}`);
  }
  await tf.ready();
  if (tf.getBackend() !== name) throw new Error(`asked for the ${name} backend but tfjs runs on ${tf.getBackend()}`);
  if (!options.stock) registerFastKernels(name);
  return name;
}
