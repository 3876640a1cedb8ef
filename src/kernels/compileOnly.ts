/**
 * The webgpu compile-only runner (core/pipelineWarmUp.ts): tfjs-webgpu's WEBGPU_ENGINE_COMPILE_ONLY
 * makes `runWebGPUProgram` create its pipeline with createComputePipelineAsync and record nothing;
 * `checkCompileCompletionAsync` then waits for all of them and puts them in tfjs's pipeline cache,
 * so the first real step finds every program compiled. Our in-place kernels (Adam, running
 * statistics, power sums) dispatch through `recordAndSubmit` directly and are not part of a dry
 * run: they compile on first use (a few small pipelines).
 */
import * as tf from '@tensorflow/tfjs';
import type { CompileOnlyRunner } from '../core/pipelineWarmUp';

const FLAG = 'WEBGPU_ENGINE_COMPILE_ONLY';

export function compileOnlyWebGPU(): CompileOnlyRunner {
  return async (dryRun) => {
    if (tf.getBackend() !== 'webgpu') throw new Error(`compile-only warm-up needs the webgpu backend, not ${tf.getBackend()}`);
    const backend = tf.backend() as unknown as { checkCompileCompletionAsync(): Promise<void> };
    tf.env().set(FLAG, true);
    try {
      dryRun();
    } finally {
      tf.env().set(FLAG, false);
    }
    await backend.checkCompileCompletionAsync();
  };
}
