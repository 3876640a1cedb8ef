/**
 * `registerFastKernels(backendName)` replaces tfjs's own kernels on one backend by ours;
 * `restoreStockKernels(backendName)` puts tfjs's back. Both are idempotent and return the kernel
 * names they touched. Call after `tf.setBackend(name)` resolved (wasm/webgpu kernels need their
 * backend's module loaded), before the first training step.
 */
import * as tf from '@tensorflow/tfjs';
import { BN_INFERENCE_GRAD_KERNEL, BN_TRAINING_GRAD_KERNEL, BN_TRAINING_KERNEL, MOVING_AVERAGE_KERNEL } from '../core/batchNormKernel';
import { COMBINE_GRAD_KERNEL, COMBINE_GRADS_KERNEL, COMBINE_KERNEL } from '../core/combineKernel';
import { GLOBAL_AVG_POOL_GRAD_KERNEL, GLOBAL_AVG_POOL_KERNEL } from '../core/poolKernel';
import { BIAS_GRAD_KERNEL, DENSE_KERNEL, DENSE_RELU_KERNEL, RELU_BIAS_GRAD_KERNEL } from '../core/denseKernel';
import { DISTILLATION_GRAD_KERNEL, DISTILLATION_KERNEL, SCALED_POWER_SUM_KERNEL, SOFTMAX_CROSS_ENTROPY_GRAD_KERNEL, SOFTMAX_CROSS_ENTROPY_KERNEL } from '../core/losses';
import { ADAM_GROUP_KERNEL, ADAM_KERNEL } from '../core/optimizer';
import { setCompileOnlyRunner } from '../core/pipelineWarmUp';
import { adamUpdateHost, adamUpdateWebGPU } from './adam';
import { adamGroupHost, adamGroupWebGPU } from './adamGroup';
import { batchNormInferenceGradWebGPU, batchNormTrainingGradWebGPU, batchNormTrainingWebGPU } from './batchNorm';
import { combineGradsWebGPU, combineGradWebGPU, combineWebGPU } from './combine';
import { compileOnlyWebGPU } from './compileOnly';
import { captureStock, stockKernel } from './compose';
import { biasGradWebGPU, denseReluWebGPU, denseWebGPU, reluBiasGradWebGPU } from './dense';
import { softmaxCrossEntropyGradWebGPU, softmaxCrossEntropyWebGPU } from './crossEntropy';
import { distillationGradWebGPU, distillationWebGPU } from './distillation';
import { conv2DBackpropFilterViaConv, conv2DBackpropInputViaConv } from './convGrad';
import { conv2DBackpropFilterWebGPU } from './convFilterGrad';
import { globalAvgPoolGradWebGPU, globalAvgPoolWebGPU } from './globalAvgPool';
import { movingAverageWebGPU } from './movingAverage';
import { scaledPowerSumWebGPU } from './powerSum';
import { addNChunkedWebGPU, maxPoolGradWebGPU } from './webgpuKernels';
import { batchMatMulTransposeFirst, maxPoolGradHost, reduceLeadingHost, tileHost } from './hostKernels';

type Factory = (backendName: string) => tf.KernelFunc;

/**
 * What we replace (or add: ADAM_KERNEL), per backend. Conv2DBackpropInput on webgpu is left to
 * tfjs (its own kernel is already a tiled matmul-style program; measure before replacing).
 */
const HOST: Record<string, Factory> = {
  [tf.Conv2DBackpropFilter]: conv2DBackpropFilterViaConv,
  [tf.Conv2DBackpropInput]: conv2DBackpropInputViaConv,
  [tf.Tile]: tileHost,
  [tf.Sum]: (b) => reduceLeadingHost(tf.Sum, b),
  [tf.Mean]: (b) => reduceLeadingHost(tf.Mean, b),
  [tf.MaxPoolGrad]: maxPoolGradHost,
};

/**
 * ADAM_KERNEL is ours only (tfjs has none): core's createAdam runs it where it is registered, else
 * tfjs's Adam. Not on wasm: there the JS loop (adamUpdateHost, same numbers) took ~2x as long as
 * tfjs-wasm's ~14 XNNPACK passes per variable (~6 vs ~3 ms for the mlp's 478k parameters, ~+4 ms
 * per batch-128 step), so wasm keeps tfjs's Adam.
 */
/**
 * webgpu runs Adam as `adamGroupWebGPU`: every variable of one `applyGradients` call updated in
 * place, a dispatch per ⌊maxStorageBuffersPerShaderStage / 3⌋ variables (ADAM_KERNEL stays for a
 * variable that cannot go in place). It was switched off for a while: conv4 training diverged at
 * step 2 once other kernels had run, because fresh Adam moments still on the host lost their zeros
 * to a dirty pooled buffer (fixed in inPlace.ts's `inPlaceOutput`; tested in fused.webgpu.test.ts).
 */
const PLAN: Record<string, Record<string, Factory>> = {
  cpu: { ...HOST, [ADAM_KERNEL]: adamUpdateHost, [ADAM_GROUP_KERNEL]: adamGroupHost },
  wasm: { ...HOST, [tf.BatchMatMul]: batchMatMulTransposeFirst },
  webgpu: {
    [tf.Conv2DBackpropFilter]: (b) => conv2DBackpropFilterWebGPU(conv2DBackpropFilterViaConv(b)), [tf.MaxPoolGrad]: maxPoolGradWebGPU, [tf.AddN]: addNChunkedWebGPU,
    [ADAM_KERNEL]: adamUpdateWebGPU, [ADAM_GROUP_KERNEL]: adamGroupWebGPU, [SOFTMAX_CROSS_ENTROPY_KERNEL]: softmaxCrossEntropyWebGPU, [SOFTMAX_CROSS_ENTROPY_GRAD_KERNEL]: softmaxCrossEntropyGradWebGPU,
    [BN_TRAINING_KERNEL]: batchNormTrainingWebGPU, [BN_TRAINING_GRAD_KERNEL]: batchNormTrainingGradWebGPU,
    [BN_INFERENCE_GRAD_KERNEL]: batchNormInferenceGradWebGPU, [MOVING_AVERAGE_KERNEL]: movingAverageWebGPU,
    [COMBINE_KERNEL]: combineWebGPU, [COMBINE_GRAD_KERNEL]: combineGradWebGPU, [COMBINE_GRADS_KERNEL]: combineGradsWebGPU,
    [DENSE_KERNEL]: denseWebGPU, [BIAS_GRAD_KERNEL]: biasGradWebGPU, [DENSE_RELU_KERNEL]: denseReluWebGPU, [RELU_BIAS_GRAD_KERNEL]: reluBiasGradWebGPU,
    [GLOBAL_AVG_POOL_KERNEL]: globalAvgPoolWebGPU, [GLOBAL_AVG_POOL_GRAD_KERNEL]: globalAvgPoolGradWebGPU,
    [SCALED_POWER_SUM_KERNEL]: scaledPowerSumWebGPU, [DISTILLATION_KERNEL]: distillationWebGPU, [DISTILLATION_GRAD_KERNEL]: distillationGradWebGPU,
  },
};

const active = new Map<string, Set<string>>();

/**
 * tfjs-webgpu submits its command buffer every WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE dispatches (15 by
 * default) and whenever data is read back. With our kernels registered it submits every
 * SUBMIT_BATCH dispatches instead, more than any training step runs (resnet8 combined: 812 with
 * tfjs's own kernels), so a step that ends with a loss read is one queue submission. The cost:
 * buffers freed during a step return to tfjs's pool only at the submit, so between two reads
 * (the lab reads a loss every reportIntervalMs) up to SUBMIT_BATCH dispatches' intermediates stay
 * allocated (a few steps' worth).
 */
export const SUBMIT_BATCH = 1024;
const SUBMIT_FLAG = 'WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE';
let stockSubmitBatch: number | null = null;

/** Kernel names `registerFastKernels` would replace on this backend (empty if none). */
export function fastKernelNames(backendName: string): string[] {
  return Object.keys(PLAN[backendName] ?? {});
}

/** Registers our kernels on `backendName` (no-op for a backend we have none for). */
export function registerFastKernels(backendName: string): string[] {
  const plan = PLAN[backendName] ?? {};
  const done = active.get(backendName) ?? new Set<string>();
  for (const [kernelName, factory] of Object.entries(plan)) {
    if (done.has(kernelName)) continue;
    const stock = captureStock(kernelName, backendName);
    if (stock) tf.unregisterKernel(kernelName, backendName);
    // No setupFunc: ours only calls stock kernels, whose setup already ran with the backend.
    tf.registerKernel({ kernelName, backendName, kernelFunc: factory(backendName) });
    done.add(kernelName);
  }
  active.set(backendName, done);
  if (backendName === 'webgpu' && stockSubmitBatch === null) {
    stockSubmitBatch = tf.env().getNumber(SUBMIT_FLAG);
    tf.env().set(SUBMIT_FLAG, SUBMIT_BATCH);
  }
  // pipeline warm-up before a stage's first step (core/pipelineWarmUp.ts)
  if (backendName === 'webgpu') setCompileOnlyRunner(backendName, compileOnlyWebGPU());
  return [...done];
}

/** Puts tfjs's own kernels back on `backendName` (where it had one), undoing `registerFastKernels`. */
export function restoreStockKernels(backendName: string): string[] {
  const done = active.get(backendName) ?? new Set<string>();
  const restored = [...done];
  for (const kernelName of restored) {
    tf.unregisterKernel(kernelName, backendName);
    const stock = stockKernel(kernelName, backendName);
    if (stock) tf.registerKernel(stock);
  }
  active.delete(backendName);
  if (backendName === 'webgpu' && stockSubmitBatch !== null) {
    tf.env().set(SUBMIT_FLAG, stockSubmitBatch);
    stockSubmitBatch = null;
  }
  setCompileOnlyRunner(backendName, null);
  return restored;
}

/** Whether our kernels are registered on `backendName`. */
export function fastKernelsActive(backendName: string): boolean {
  return (active.get(backendName)?.size ?? 0) > 0;
}
