/**
 * Test helper: tfjs-backend-webgpu on Dawn (npm `webgpu`) in Node, SwiftShader when there is no
 * GPU. `setupWebGPU` returns null when the backend works, else why not (tests skip, saying so);
 * it leaves the cpu backend active. Uncaptured GPU errors collect in `gpuErrors`.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** GPU validation / out-of-memory errors seen since setup (a passing test expects none). */
export const gpuErrors: string[] = [];

export async function setupWebGPU(): Promise<string | null> {
  try {
    if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER)) process.env.VK_ICD_FILENAMES = SWIFTSHADER;
    process.env.XDG_RUNTIME_DIR ??= mkdtempSync(path.join(tmpdir(), 'xdg-'));
    const dawn = (await import('webgpu')) as { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
    Object.assign(globalThis, dawn.globals);
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: dawn.create([]) }, configurable: true });
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu')) || tf.getBackend() !== 'webgpu') return 'no WebGPU adapter';
    const device = (tf.backend() as unknown as { device: GPUDevice }).device;
    device.addEventListener('uncapturederror', (e) => gpuErrors.push((e as GPUUncapturedErrorEvent).error.message));
    await tf.setBackend('cpu');
    return null;
  } catch (e) {
    return String(e);
  }
}
