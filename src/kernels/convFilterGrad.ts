/**
 * Conv2DBackpropFilter on webgpu in one program (NHWC, dilation 1), instead of convGrad.ts's
 * forward-conv composition (3 transposes, an im2col and a matmul: 5 dispatches per filter).
 *
 *   dW[a, b, i, o] = Σ_{n, p, q} x[n, p·sh + a − pt, q·sw + b − pl, i] · dy[n, p, q, o]
 *
 * x [N, H, W, Ci], dy [N, Ho, Wo, Co] → dW [fh, fw, Ci, Co]. A GEMM over the P = N·Ho·Wo positions
 * with the im2col done on the fly: one workgroup (64 invocations) per (a, b) and 8 × 8 tile of
 * (i, o); each round the workgroup stages 64 positions' x (8 input channels, zero where the window
 * leaves the image) and dy (8 output channels) in workgroup memory, and each invocation adds the
 * 64 products of its (i, o) to a compensated running sum (positions in order: one fixed order).
 * Parallelism is fh·fw·⌈Ci/8⌉·⌈Co/8⌉ workgroups, each looping over all positions: fewer
 * dispatches for a longer serial loop, a trade only a GPU's timing can judge (docs/PERFORMANCE.md).
 */
import type * as tf from '@tensorflow/tfjs';
import type { KernelArgs } from './compose';
import { nhwcGeometry } from './convGrad';
import { dispatchWithOutputs, IN_PLACE_WORKGROUP, MAX_WORKGROUPS, pipelineFor, type WebGPUInternals } from './inPlace';

/** Channels per tile side (TILE × TILE = the workgroup's 64 invocations). */
const TILE = 8;
/** Positions staged per round (one per invocation when loading). */
const ROUND = IN_PLACE_WORKGROUP;

const UNIFORMS = ['positions', 'outHeight', 'outWidth', 'inHeight', 'inWidth', 'inChannels', 'outChannels', 'filterWidth', 'tilesIn', 'tilesOut', 'strideHeight', 'strideWidth', 'padTop', 'padLeft'] as const;

function shaderCode(): string {
  return `
struct Uniforms {
  pad : i32,
  ${UNIFORMS.map((u) => `${u} : i32,`).join('\n  ')}
};
@group(0) @binding(0) var<storage, read_write> dW : array<f32>;
@group(0) @binding(1) var<storage, read> x : array<f32>;
@group(0) @binding(2) var<storage, read> dy : array<f32>;
@group(0) @binding(3) var<uniform> uniforms : Uniforms;
var<workgroup> xs : array<f32, ${ROUND * TILE}>;
var<workgroup> dys : array<f32, ${ROUND * TILE}>;

@compute @workgroup_size(${IN_PLACE_WORKGROUP}, 1, 1)
fn main(@builtin(workgroup_id) wid : vec3<u32>, @builtin(local_invocation_index) lidU : u32) {
  let lid = i32(lidU);
  var t = i32(wid.x);
  let o0 = (t % uniforms.tilesOut) * ${TILE};
  t = t / uniforms.tilesOut;
  let i0 = (t % uniforms.tilesIn) * ${TILE};
  t = t / uniforms.tilesIn;
  let b = t % uniforms.filterWidth;
  let a = t / uniforms.filterWidth;
  let ti = lid / ${TILE};
  let to = lid % ${TILE};
  let perImage = uniforms.outHeight * uniforms.outWidth;
  var sum = 0.0;
  var comp = 0.0;
  for (var start = 0; start < uniforms.positions; start = start + ${ROUND}) {
    for (var k = 0; k < ${TILE}; k++) {
      let slot = k * ${ROUND} + lid;
      let pos = start + slot / ${TILE};
      let c = slot % ${TILE};
      var xv = 0.0;
      var dv = 0.0;
      if (pos < uniforms.positions) {
        let n = pos / perImage;
        let r = pos % perImage;
        let p = r / uniforms.outWidth;
        let q = r % uniforms.outWidth;
        let row = p * uniforms.strideHeight + a - uniforms.padTop;
        let col = q * uniforms.strideWidth + b - uniforms.padLeft;
        if (i0 + c < uniforms.inChannels && row >= 0 && row < uniforms.inHeight && col >= 0 && col < uniforms.inWidth) {
          xv = x[((n * uniforms.inHeight + row) * uniforms.inWidth + col) * uniforms.inChannels + i0 + c];
        }
        if (o0 + c < uniforms.outChannels) {
          dv = dy[pos * uniforms.outChannels + o0 + c];
        }
      }
      xs[slot] = xv;
      dys[slot] = dv;
    }
    workgroupBarrier();
    for (var j = 0; j < ${ROUND}; j++) {
      let yk = xs[j * ${TILE} + ti] * dys[j * ${TILE} + to] - comp;
      let s = sum + yk;
      comp = (s - sum) - yk;
      sum = s;
    }
    workgroupBarrier();
  }
  let i = i0 + ti;
  let o = o0 + to;
  if (i < uniforms.inChannels && o < uniforms.outChannels) {
    dW[((a * uniforms.filterWidth + b) * uniforms.inChannels + i) * uniforms.outChannels + o] = sum;
  }
}`;
}

/**
 * The kernel on webgpu; `fallback` (convGrad.ts's composition) runs NCHW, non-float32 and
 * calls whose workgroup count exceeds tfjs's per-dimension limit.
 */
export function conv2DBackpropFilterWebGPU(fallback: tf.KernelFunc): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { x, dy } = args.inputs;
    const { filterShape } = args.attrs as unknown as { filterShape: number[] };
    const info = nhwcGeometry(args, x.shape, filterShape);
    if (!info || x.dtype !== 'float32' || dy.dtype !== 'float32') return fallback(raw);
    const tilesIn = Math.ceil(info.inChannels / TILE);
    const tilesOut = Math.ceil(info.outChannels / TILE);
    const workgroups = info.filterHeight * info.filterWidth * tilesIn * tilesOut;
    if (workgroups > MAX_WORKGROUPS) return fallback(raw);
    const values: Record<(typeof UNIFORMS)[number], number> = {
      positions: info.batchSize * info.outHeight * info.outWidth, outHeight: info.outHeight, outWidth: info.outWidth,
      inHeight: info.inHeight, inWidth: info.inWidth, inChannels: info.inChannels, outChannels: info.outChannels,
      filterWidth: info.filterWidth, tilesIn, tilesOut, strideHeight: info.strideHeight, strideWidth: info.strideWidth,
      padTop: info.padInfo.top, padLeft: info.padInfo.left,
    };
    const backend = args.backend as unknown as WebGPUInternals;
    const pipeline = pipelineFor(backend.device, 'resclConvFilterGrad', shaderCode);
    const [dW] = dispatchWithOutputs(backend, 'resclConvFilterGrad', pipeline, [filterShape], [x, dy], workgroups * IN_PLACE_WORKGROUP,
      UNIFORMS.map((u) => ({ type: 'int32' as const, data: [values[u]] })));
    return dW;
  };
}
