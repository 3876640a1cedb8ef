/**
 * Helpers to build a kernel out of other kernels of the same backend, below the engine: no
 * tensors, no tape, no engine bookkeeping — only `TensorInfo`s the backend owns. This is how
 * tfjs's own backends compose kernels (backend-cpu's Conv2DBackpropFilter calls `transpose`), made
 * backend-generic by looking the kernels up in tfjs's registry.
 *
 * The stock kernels are captured by `captureStock` before we register ours, so a composed kernel
 * never calls itself and `--stock` can put tfjs's own back.
 */
import * as tf from '@tensorflow/tfjs';

type Attrs = Record<string, unknown>;
type Inputs = Record<string, tf.TensorInfo>;

/** What a kernel function gets (tfjs's `KernelFunc` argument, with the backend left opaque). */
export interface KernelArgs {
  inputs: Inputs;
  backend: tf.KernelBackend;
  attrs?: Attrs;
}

const stock = new Map<string, tf.KernelConfig>();
/** Kernels we replace (captured), with or without a stock version: never looked up in the registry. */
const captured = new Set<string>();

function key(kernelName: string, backendName: string): string {
  return `${backendName}/${kernelName}`;
}

/** Remembers tfjs's own config of a kernel (once; later calls keep the first, i.e. tfjs's). */
export function captureStock(kernelName: string, backendName: string): tf.KernelConfig | undefined {
  const k = key(kernelName, backendName);
  if (!captured.has(k)) {
    captured.add(k);
    const config = tf.getKernel(kernelName, backendName);
    if (config) stock.set(k, { ...config });
  }
  return stock.get(k);
}

/** tfjs's own config of a kernel, as captured before any replacement (undefined if it has none). */
export function stockKernel(kernelName: string, backendName: string): tf.KernelConfig | undefined {
  const k = key(kernelName, backendName);
  return captured.has(k) ? stock.get(k) : tf.getKernel(kernelName, backendName);
}

/**
 * Runs the backend's *stock* kernel `kernelName` on TensorInfos. The result belongs to the
 * caller: dispose it with `release` unless it is returned from the kernel being composed.
 */
export function call(
  backendName: string, kernelName: string, backend: tf.KernelBackend, inputs: Inputs, attrs: Attrs = {},
): tf.TensorInfo {
  const config = stockKernel(kernelName, backendName);
  if (!config) throw new Error(`kernels: no '${kernelName}' kernel on backend '${backendName}' to compose with`);
  const out = config.kernelFunc({ inputs, backend, attrs } as unknown as Parameters<tf.KernelFunc>[0]);
  if (Array.isArray(out)) throw new Error(`kernels: '${kernelName}' returned several outputs`);
  return out;
}

/** Frees an intermediate result of `call` (reference-counted by the backend). */
export function release(backend: tf.KernelBackend, ...infos: tf.TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/** Runs tfjs's own kernel on the original arguments: the fallback for cases a replacement skips. */
export function runStock(kernelName: string, backendName: string, args: KernelArgs): tf.TensorInfo {
  const config = stockKernel(kernelName, backendName);
  if (!config) throw new Error(`kernels: '${kernelName}' on '${backendName}': tfjs has no kernel of its own for this case`);
  return config.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
}

/** The pooling geometry of a MaxPoolGrad call (inputs.input, attrs as tfjs passes them). */
export function poolInfo(args: KernelArgs): tf.backend_util.Conv2DInfo {
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as {
    filterSize: number | [number, number]; strides: number | [number, number]; pad: 'valid' | 'same' | number;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  return tf.backend_util.computePool2DInfo(
    args.inputs.input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
}
