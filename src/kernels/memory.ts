/**
 * Typed-array access to tensor data on the CPU-memory backends, for kernels written as plain JS
 * loops: `cpu` keeps a TypedArray per tensor; `wasm` keeps tensors in the module's heap and hands
 * out views into it. Only these two backends are supported (callers check `isHostBackend`).
 *
 * wasm: a view dies when the heap grows, and `makeOutput` may grow it — so allocate the output
 * first (`allocate`), then take every view (`view`), then write.
 */
import type * as tf from '@tensorflow/tfjs';

interface CpuBackendLike {
  data: { get(dataId: object): { values: ArrayLike<number> } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: ArrayLike<number>): tf.TensorInfo;
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

export function isHostBackend(backendName: string): boolean {
  return backendName === 'cpu' || backendName === 'wasm';
}

/** A new float32 tensor of `shape` on the backend (contents unspecified on wasm, zero on cpu). */
export function allocate(backendName: string, backend: tf.KernelBackend, shape: number[]): tf.TensorInfo {
  if (backendName === 'wasm') return (backend as unknown as WasmBackendLike).makeOutput(shape, 'float32');
  let size = 1;
  for (const d of shape) size *= d;
  return (backend as unknown as CpuBackendLike).makeTensorInfo(shape, 'float32', new Float32Array(size));
}

/**
 * The float32 data of a tensor, as a live view (wasm) or the backend's own array (cpu).
 * On cpu a float32 tensor made by casting int32 or bool shares the source's Int32Array/Uint8Array
 * (tfjs-cpu's Cast is an identity when no precision is lost): such data is returned as a float32
 * copy, which is only ever read (outputs come from `allocate` and are real Float32Arrays).
 */
export function view(backendName: string, backend: tf.KernelBackend, info: tf.TensorInfo): Float32Array {
  const values = backendName === 'wasm'
    ? (backend as unknown as WasmBackendLike).typedArrayFromHeap(info)
    : (backend as unknown as CpuBackendLike).data.get(info.dataId).values;
  if (values instanceof Float32Array) return values;
  if (backendName === 'cpu' && info.dtype === 'float32' && (values instanceof Int32Array || values instanceof Uint8Array)) return Float32Array.from(values);
  throw new Error(`kernels: expected float32 data, got ${info.dtype} stored as ${values?.constructor?.name ?? typeof values}`);
}
