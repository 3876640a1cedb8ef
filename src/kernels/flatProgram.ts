/**
 * A one-output WGSL program over a flat index (one invocation per output element), the building
 * block of our own WebGPU kernels (Adam, softmax cross-entropy). Run with `runFlat`.
 */
import type * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

export const WORKGROUP = 64;

/** One uniform of a FlatProgram: its WGSL name and type, and its value. */
export interface FlatUniform { name: string; type: 'i32' | 'f32'; value: number }

/**
 * The program: `body` runs per output element and sees `index`, the uniforms (`uniforms.<name>`)
 * and the inputs (bound as arrays under `variableNames`); it writes with `setOutputAtIndex`.
 * `invocations` (default: the output size) sets how many indices run (`uniforms.size` is the output size).
 * `helpers` is WGSL placed before `main` (functions, private variables).
 */
class FlatProgram {
  workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];
  size = true;
  uniforms: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  /** the program's name in dispatch counts (deviceWork.ts; tfjs rewrites shaderKey) */
  readonly resclName: string;

  constructor(
    public shaderKey: string, public variableNames: string[], uniforms: FlatUniform[],
    public outputShape: number[], private readonly body: string, private readonly helpers = '',
  ) {
    this.resclName = shaderKey;
    this.uniforms = uniforms.map((u) => `${u.name} : ${u.type},`).join(' ');
    this.dispatchLayout = { x: outputShape.map((_, i) => i) };
    this.dispatch = [Math.ceil(outputShape.reduce((a, b) => a * b, 1) / WORKGROUP), 1, 1];
  }

  getUserCode(): string {
    return `${this.helpers}
      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        ${this.body}
      }
    `;
  }
}

/**
 * Runs one FlatProgram on `backend`: `key` names the shader (one compiled pipeline per key and
 * input/output shape class), `inputs` are (WGSL name, tensor) pairs; returns the float32 output.
 */
export function runFlat(
  backend: WebGPUBackend, key: string, inputs: [string, tf.TensorInfo][], uniforms: FlatUniform[],
  outputShape: number[], body: string, helpers = '',
): tf.TensorInfo {
  const program = new FlatProgram(key, inputs.map(([name]) => name), uniforms, outputShape, body, helpers);
  const data = uniforms.map((u) => ({ type: u.type === 'i32' ? 'int32' : 'float32', data: [u.value] }));
  return backend.runWebGPUProgram(program as never, inputs.map(([, info]) => info), 'float32', data);
}

/** Throws unless `dy` is a float32 scalar (the incoming gradient of a scalar loss term), naming `kernel`. */
export function checkScalarGradient(dy: tf.TensorInfo, kernel: string): void {
  if (dy.dtype !== 'float32' || dy.shape.reduce((a, b) => a * b, 1) !== 1) throw new Error(`${kernel}: expected a float32 scalar dy; got ${dy.dtype} [${dy.shape}]`);
}

/** A tensor's data seen as a flat [n] vector (no copy, no new reference: read-only input). */
export function flat(info: tf.TensorInfo, n: number): tf.TensorInfo {
  return { dataId: info.dataId, shape: [n], dtype: info.dtype };
}

/**
 * WGSL (channels last; needs uniforms `positions` M and `channels` C, and `c` in scope): `sum` = compensated Σ over the M positions p of channel c of `term` (an expression of `at` = p·C + c),
 * one fixed order.
 */
export function channelSum(term: string): string {
  return `
        var sum = 0.0;
        var comp = 0.0;
        for (var p = 0; p < uniforms.positions; p++) {
          let at = p * uniforms.channels + c;
          let yk = (${term}) - comp;
          let t = sum + yk;
          comp = (t - sum) - yk;
          sum = t;
        }`;
}

/** Threads of tfjs-webgpu's ReduceProgram for rows shorter than 4096 (its sums' order, emulated below). */
export const REDUCE_THREADS = 64;

/**
 * WGSL helpers that add in tfjs's order: a ReduceProgram sum over L values lets thread t
 * (t < 64) add values t, t + 64, ... in turn, then halves min(L, 64) partial sums in a tree
 * (slot i += slot i + ⌈size/2⌉). `name` holds the 64 slots; `<name>Clear()` zeroes them and
 * `<name>Finish(L)` runs the tree and returns the sum.
 */
export function treeSum(name: string): string {
  return `
    var<private> ${name} : array<f32, ${REDUCE_THREADS}>;
    fn ${name}Clear() { for (var t = 0; t < ${REDUCE_THREADS}; t++) { ${name}[t] = 0.0; } }
    fn ${name}Finish(len : i32) -> f32 {
      var size = min(len, ${REDUCE_THREADS});
      loop {
        if (size <= 1) { break; }
        let cur = size / 2;
        let interval = (size + 1) / 2;
        for (var i = 0; i < cur; i++) { ${name}[i] = ${name}[i] + ${name}[i + interval]; }
        size = interval;
      }
      return ${name}[0];
    }`;
}
