/**
 * WebGPU kernels: our own WGSL programs run through `backend.runWebGPUProgram`, and kernels split
 * to fit the device's limits. Verified for correctness on SwiftShader (webgpu.test.ts); their
 * speed has not been measured on a GPU from this repository (see docs/PERFORMANCE.md).
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { call, poolInfo, release, runStock, type KernelArgs } from './compose';

const WORKGROUP = 64;

/**
 * MaxPoolGrad in one pass, no positions tensor (tfjs runs a max-pool-with-positions program and
 * then a scatter-as-gather program with float index arithmetic). One invocation per dx element
 * (b, y, x, d): for every window that covers (y, x) it finds the window's first maximum (scan
 * order, strict >, as tfjs-cpu) and adds that window's dy when the maximum is this element.
 * For 2x2/2 pooling each dx element reads one window of 4 inputs.
 */
class MaxPoolGradFirstMaxProgram {
  variableNames = ['dy', 'x'];
  uniforms = 'strides : vec2<i32>, pads : vec2<i32>, filterDims : vec2<i32>, inDims : vec2<i32>, outDims : vec2<i32>,';
  workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];
  size = true;
  outputShape: number[];
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  shaderKey = 'resclMaxPoolGradFirstMax';

  constructor(inShape: number[]) {
    this.outputShape = inShape;
    this.dispatchLayout = { x: inShape.map((_, i) => i) };
    this.dispatch = [Math.ceil(inShape.reduce((a, b) => a * b, 1) / WORKGROUP), 1, 1];
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        let coords = getCoordsFromIndex(index);
        let b = coords[0];
        let y = coords[1];
        let x = coords[2];
        let d = coords[3];
        // Windows (oy, ox) whose rows oy*s - pad .. oy*s - pad + f - 1 contain y (same for x).
        let oyMin = max(0, (y + uniforms.pads.x - uniforms.filterDims.x + uniforms.strides.x) / uniforms.strides.x);
        let oyMax = min(uniforms.outDims.x - 1, (y + uniforms.pads.x) / uniforms.strides.x);
        let oxMin = max(0, (x + uniforms.pads.y - uniforms.filterDims.y + uniforms.strides.y) / uniforms.strides.y);
        let oxMax = min(uniforms.outDims.y - 1, (x + uniforms.pads.y) / uniforms.strides.y);
        var acc = 0.0;
        for (var oy = oyMin; oy <= oyMax; oy++) {
          let y0 = oy * uniforms.strides.x - uniforms.pads.x;
          for (var ox = oxMin; ox <= oxMax; ox++) {
            let x0 = ox * uniforms.strides.y - uniforms.pads.y;
            var best = -3.402823e+38;
            var found = false;
            var bestY = -1;
            var bestX = -1;
            for (var wy = max(0, y0); wy < min(uniforms.inDims.x, y0 + uniforms.filterDims.x); wy++) {
              for (var wx = max(0, x0); wx < min(uniforms.inDims.y, x0 + uniforms.filterDims.y); wx++) {
                let v = getX(b, wy, wx, d);
                if (!found || v > best) { best = v; bestY = wy; bestX = wx; found = true; }
              }
            }
            if (bestY == y && bestX == x) { acc += getDy(b, oy, ox, d); }
          }
        }
        setOutputAtIndex(index, acc);
      }
    `;
  }
}

export function maxPoolGradWebGPU(backendName: string): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { dy, input } = args.inputs;
    if (input.dtype !== 'float32') return runStock(tf.MaxPoolGrad, backendName, args);
    const info = poolInfo(args);
    const program = new MaxPoolGradFirstMaxProgram(input.shape);
    const uniforms = [
      { type: 'int32', data: [info.strideHeight, info.strideWidth] },
      { type: 'int32', data: [info.padInfo.top, info.padInfo.left] },
      { type: 'int32', data: [info.effectiveFilterHeight, info.effectiveFilterWidth] },
      { type: 'int32', data: [info.inHeight, info.inWidth] },
      { type: 'int32', data: [info.outHeight, info.outWidth] },
    ];
    const backend = args.backend as unknown as WebGPUBackend;
    return backend.runWebGPUProgram(program as never, [dy, input], 'float32', uniforms);
  };
}

/**
 * AddN in chunks: tfjs-webgpu's AddN binds every input as a storage buffer, so with n + 1 > the
 * device's maxStorageBuffersPerShaderStage (8 by default) its pipeline fails validation and the
 * result is garbage. Sum at most `maxInputs` tensors per AddN, then the partial sums.
 */
export function addNChunkedWebGPU(backendName: string): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as { inputs: tf.TensorInfo[]; backend: tf.KernelBackend };
    const device = (args.backend as unknown as { device?: GPUDevice }).device;
    // One binding is the output; keep one spare for the uniforms-as-storage some programs use.
    const maxInputs = Math.max(2, (device?.limits.maxStorageBuffersPerShaderStage ?? 8) - 2);
    let level = args.inputs;
    const owned: tf.TensorInfo[] = [];
    while (level.length > maxInputs) {
      const next: tf.TensorInfo[] = [];
      for (let i = 0; i < level.length; i += maxInputs) {
        const chunk = level.slice(i, i + maxInputs);
        if (chunk.length === 1) { next.push(chunk[0]); continue; }
        const partial = call(backendName, tf.AddN, args.backend, chunk as unknown as Record<string, tf.TensorInfo>);
        owned.push(partial);
        next.push(partial);
      }
      level = next;
    }
    const out = call(backendName, tf.AddN, args.backend, level as unknown as Record<string, tf.TensorInfo>);
    release(args.backend, ...owned);
    return out;
  };
}
