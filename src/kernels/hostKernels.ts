/**
 * Kernels for the CPU-memory backends (`cpu`, `wasm`) written as plain loops over typed arrays
 * (memory.ts), for the cases a training step hits and tfjs's own kernels handle slowly. Each takes
 * a fast path only where its precondition holds and otherwise runs tfjs's own kernel.
 *
 * Measured on wasm (2-core x86, Node 20, batch 128 conv4 step; see docs/PERFORMANCE.md):
 *   Tile [1,1,1,32] -> [128,28,28,32] (batch-norm gradient): 200 ms stock, a few ms here;
 *   MaxPoolGrad 2x2/2 on [128,28,28,32]: ~50 ms stock.
 */
import * as tf from '@tensorflow/tfjs';
import { call, poolInfo, release, runStock, type KernelArgs } from './compose';
import { allocate, view } from './memory';


/**
 * Tile, fast path: when every axis that is repeated (reps > 1) lies before every axis where x is
 * longer than 1, the output is x's flat data repeated prod(reps) times — copied by doubling
 * (copyWithin), i.e. at memcpy speed. This is the batch-norm gradient's tile of a [1,1,1,C]
 * vector to the activation shape.
 */
export function tileHost(backendName: string): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { x } = args.inputs;
    const reps = (args.attrs as { reps: number[] }).reps;
    let lastRepeated = -1;
    for (let d = 0; d < reps.length; d++) if (reps[d] > 1) lastRepeated = d;
    const fast = x.dtype === 'float32' && reps.length === x.shape.length
      && x.shape.slice(0, lastRepeated + 1).every((s) => s === 1);
    if (!fast) return runStock(tf.Tile, backendName, args);
    const outShape = x.shape.map((s, d) => s * reps[d]);
    const out = allocate(backendName, args.backend, outShape);
    const src = view(backendName, args.backend, x);
    const dst = view(backendName, args.backend, out);
    const n = src.length;
    if (dst.length === 0) return out;
    dst.set(src, 0);
    let filled = n;
    while (filled < dst.length) {
      const len = Math.min(filled, dst.length - filled);
      dst.copyWithin(filled, 0, len);
      filled += len;
    }
    return out;
  };
}

/**
 * Sum / Mean over *leading* axes (axis = [0..k−1], the batch-norm and bias reductions):
 * x viewed as [rows, cols], summed row by row into a float64 accumulator. Other axes and
 * non-float32 inputs run tfjs's own kernel.
 */
export function reduceLeadingHost(kernelName: typeof tf.Sum | typeof tf.Mean, backendName: string): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { x } = args.inputs;
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const leading = axes.length > 0 && axes.every((a, i) => a === i);
    if (x.dtype !== 'float32' || !leading) return runStock(kernelName, backendName, args);
    const k = axes.length;
    let rows = 1;
    for (let d = 0; d < k; d++) rows *= x.shape[d];
    const kept = x.shape.slice(k);
    let cols = 1;
    for (const s of kept) cols *= s;
    const outShape = keepDims ? [...x.shape.slice(0, k).map(() => 1), ...kept] : kept;
    const out = allocate(backendName, args.backend, outShape);
    const src = view(backendName, args.backend, x);
    const dst = view(backendName, args.backend, out);
    const acc = new Float64Array(cols);
    for (let r = 0, o = 0; r < rows; r++, o += cols) {
      for (let c = 0; c < cols; c++) acc[c] += src[o + c];
    }
    const scale = kernelName === tf.Mean ? 1 / rows : 1;
    for (let c = 0; c < cols; c++) dst[c] = acc[c] * scale;
    return out;
  };
}

/**
 * MaxPoolGrad: dx[n, y, x, c] = Σ over the windows whose first maximum (scan order, strict >, as
 * tfjs-cpu's maxPoolPositions) sits at (y, x) of dy at that window. Any filter, stride, padding
 * (dilation 1, which is all MaxPoolGrad supports).
 */
export function maxPoolGradHost(backendName: string): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { dy, input } = args.inputs;
    if (input.dtype !== 'float32') return runStock(tf.MaxPoolGrad, backendName, args);
    const info = poolInfo(args);
    const { batchSize, inHeight: h, inWidth: w, inChannels: ch, outHeight: ho, outWidth: wo, strideHeight: sh, strideWidth: sw } = info;
    const fh = info.effectiveFilterHeight;
    const fw = info.effectiveFilterWidth;
    const pt = info.padInfo.top;
    const pl = info.padInfo.left;
    const out = allocate(backendName, args.backend, input.shape);
    const xs = view(backendName, args.backend, input);
    const dys = view(backendName, args.backend, dy);
    const dx = view(backendName, args.backend, out);
    dx.fill(0);
    const best = new Float32Array(ch);
    const at = new Int32Array(ch);
    for (let b = 0; b < batchSize; b++) {
      const xb = b * h * w * ch;
      for (let oy = 0; oy < ho; oy++) {
        const y0 = oy * sh - pt;
        const yMin = Math.max(0, y0);
        const yMax = Math.min(h, y0 + fh);
        for (let ox = 0; ox < wo; ox++) {
          const x0 = ox * sw - pl;
          const xMin = Math.max(0, x0);
          const xMax = Math.min(w, x0 + fw);
          best.fill(Number.NEGATIVE_INFINITY);
          at.fill(-1);
          for (let y = yMin; y < yMax; y++) {
            for (let xx = xMin; xx < xMax; xx++) {
              const base = xb + (y * w + xx) * ch;
              for (let c = 0; c < ch; c++) {
                const v = xs[base + c];
                if (v > best[c]) { best[c] = v; at[c] = base + c; }
              }
            }
          }
          const dyBase = ((b * ho + oy) * wo + ox) * ch;
          for (let c = 0; c < ch; c++) if (at[c] >= 0) dx[at[c]] += dys[dyBase + c];
        }
      }
    }
    return out;
  };
}

/**
 * BatchMatMul with transposeA / transposeB on wasm: XNNPACK's path for a transposed operand is ~10x
 * slower than an explicit Transpose followed by the plain product (measured: [128,3136]^T x
 * [128,256] 105 ms vs 10 ms), so transpose first.
 */
export function batchMatMulTransposeFirst(backendName: string): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { a, b } = args.inputs;
    const attrs = args.attrs as { transposeA: boolean; transposeB: boolean };
    if (!attrs.transposeA && !attrs.transposeB) return runStock(tf.BatchMatMul, backendName, args);
    const swapLast = (t: tf.TensorInfo): tf.TensorInfo => {
      const perm = t.shape.map((_, i) => i);
      const r = perm.length;
      [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
      return call(backendName, tf.Transpose, args.backend, { x: t }, { perm });
    };
    const a2 = attrs.transposeA ? swapLast(a) : a;
    const b2 = attrs.transposeB ? swapLast(b) : b;
    const out = call(backendName, tf.BatchMatMul, args.backend, { a: a2, b: b2 }, { ...args.attrs, transposeA: false, transposeB: false });
    if (a2 !== a) release(args.backend, a2);
    if (b2 !== b) release(args.backend, b2);
    return out;
  };
}
