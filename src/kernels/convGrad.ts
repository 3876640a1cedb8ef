/**
 * Convolution gradients as *forward* convolutions, composed from the backend's own Transpose,
 * Reverse, Slice and Conv2D kernels (see compose.ts). Forward convs are the kernels every backend
 * optimises (XNNPACK on wasm, tiled matmul on WebGPU); tfjs's own gradient kernels are naive
 * loops (cpu, webgpu) or missing (wasm has no Conv2DBackpropFilter at all).
 *
 * Shapes (NHWC, filter [fh, fw, ci, co]), x [n, h, w, ci], dy [n, ho, wo, co]:
 *
 * Filter gradient. dW[a,b,i,o] = Σ_{n,p,q} x[n, p·sh + a − pt, q·sw + b − pl, i] · dy[n,p,q,o].
 *   Read the batch as the reduction channel: xT = x^T(3,1,2,0) : [ci, h, w, n] is a batch of `ci`
 *   one-image inputs with `n` channels, dyT = dy^T(1,2,0,3) : [ho, wo, n, co] is a filter, and
 *   conv2d(xT, dyT, stride 1, dilation (sh, sw), pad (pt, pb', pl, pr')) : [ci, fh, fw, co]
 *   is dW^T(2,0,1,3). pb' = (ho−1)·sh + fh − h − pt makes the output exactly fh tall; when it is
 *   negative the rows past the last one the forward conv read are sliced off instead.
 *
 * Input gradient (stride 1, dilation 1 only; otherwise tfjs's own kernel runs).
 *   dx[n,y,x,i] = Σ_{a,b,o} dy[n, y + pt − a, x + pl − b, o] · W[a,b,i,o]
 *   = conv2d(dy, W', stride 1, pad (fh−1−pt, ·, fw−1−pl, ·)) with W' = reverse(W, [0,1])^T(0,1,3,2)
 *   : [fh, fw, co, ci]; bottom/right pads make the output h × w.
 */
import * as tf from '@tensorflow/tfjs';
import { call, release, runStock, type KernelArgs } from './compose';

/** Largest im2col buffer we let WebGPU's Conv2D build for one filter-gradient conv (64 MiB). */
const IM2COL_BYTES = 64 * 2 ** 20;

type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];

interface ConvGradAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

type Shape4 = [number, number, number, number];

/**
 * The forward conv's geometry for a gradient kernel call, or null when the call is NCHW (then the
 * caller runs the stock kernel).
 */
export function nhwcGeometry(args: KernelArgs, inputShape: number[], filterShape: number[]): tf.backend_util.Conv2DInfo | null {
  const attrs = args.attrs as unknown as ConvGradAttrs;
  if (attrs.dataFormat === 'NCHW') return null;
  return tf.backend_util.computeConv2DInfo(inputShape as Shape4, filterShape as Shape4, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
}

/** Conv2DBackpropFilter for `backendName`, as one forward Conv2D over transposed tensors. */
export function conv2DBackpropFilterViaConv(backendName: string): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { backend } = args;
    const { x, dy } = args.inputs;
    const info = nhwcGeometry(args, x.shape, (args.attrs as unknown as { filterShape: Shape4 }).filterShape);
    if (!info) return runStock(tf.Conv2DBackpropFilter, backendName, args);
    const { inHeight: h, inWidth: w, filterHeight: fh, filterWidth: fw, outHeight: ho, outWidth: wo, strideHeight: sh, strideWidth: sw } = info;
    const pt = info.padInfo.top;
    const pl = info.padInfo.left;
    const pb = (ho - 1) * sh + fh - h - pt;
    const pr = (wo - 1) * sw + fw - w - pl;
    /** dW^T(2,0,1,3) : [ci, fh, fw, co] from images [b0, b0 + nb) (the whole batch when they are x, dy). */
    const partial = (xs: tf.TensorInfo, dys: tf.TensorInfo, nb: number): tf.TensorInfo => {
      let xT = call(backendName, tf.Transpose, backend, { x: xs }, { perm: [3, 1, 2, 0] });
      if (pb < 0 || pr < 0) {
        const sliced = call(backendName, tf.Slice, backend, { x: xT }, {
          begin: [0, 0, 0, 0], size: [info.inChannels, h + Math.min(pb, 0), w + Math.min(pr, 0), nb],
        });
        release(backend, xT);
        xT = sliced;
      }
      const dyT = call(backendName, tf.Transpose, backend, { x: dys }, { perm: [1, 2, 0, 3] });
      const gT = call(backendName, tf.Conv2D, backend, { x: xT, filter: dyT }, {
        strides: [1, 1], dilations: [sh, sw], dataFormat: 'NHWC',
        pad: [[0, 0], [pt, Math.max(pb, 0)], [pl, Math.max(pr, 0)], [0, 0]],
      });
      release(backend, xT, dyT);
      return gT;
    };
    // WebGPU runs this conv as im2col + matmul; the im2col buffer holds ci·fh·fw · ho·wo·n floats and
    // must fit one storage-buffer binding, so large batches are split and the partial sums added.
    const n = info.batchSize;
    const im2colBytes = 4 * info.inChannels * fh * fw * ho * wo * n;
    const chunks = backendName === 'webgpu' ? Math.min(n, Math.ceil(im2colBytes / IM2COL_BYTES)) : 1;
    let gT: tf.TensorInfo | undefined;
    if (chunks <= 1) {
      gT = partial(x, dy, n);
    } else {
      const per = Math.ceil(n / chunks);
      for (let b0 = 0; b0 < n; b0 += per) {
        const nb = Math.min(per, n - b0);
        const xs = call(backendName, tf.Slice, backend, { x }, { begin: [b0, 0, 0, 0], size: [nb, h, w, info.inChannels] });
        const dys = call(backendName, tf.Slice, backend, { x: dy }, { begin: [b0, 0, 0, 0], size: [nb, ho, wo, info.outChannels] });
        const g = partial(xs, dys, nb);
        release(backend, xs, dys);
        if (gT) {
          const sum = call(backendName, tf.Add, backend, { a: gT, b: g });
          release(backend, gT, g);
          gT = sum;
        } else {
          gT = g;
        }
      }
    }
    const dW = call(backendName, tf.Transpose, backend, { x: gT as tf.TensorInfo }, { perm: [1, 2, 0, 3] });
    release(backend, gT as tf.TensorInfo);
    return dW;
  };
}

/** Conv2DBackpropInput for `backendName`: a forward Conv2D with the flipped, transposed filter (stride 1). */
export function conv2DBackpropInputViaConv(backendName: string): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { backend } = args;
    const { dy, filter } = args.inputs;
    const info = nhwcGeometry(args, (args.attrs as unknown as { inputShape: Shape4 }).inputShape, filter.shape);
    if (!info) return runStock(tf.Conv2DBackpropInput, backendName, args);
    const { inHeight: h, inWidth: w, filterHeight: fh, filterWidth: fw, outHeight: ho, outWidth: wo } = info;
    const top = fh - 1 - info.padInfo.top;
    const left = fw - 1 - info.padInfo.left;
    const bottom = h - ho + fh - 1 - top;
    const right = w - wo + fw - 1 - left;
    if (info.strideHeight !== 1 || info.strideWidth !== 1 || Math.min(top, left, bottom, right) < 0) {
      return runStock(tf.Conv2DBackpropInput, backendName, args);
    }
    const flipped = call(backendName, tf.Reverse, backend, { x: filter }, { dims: [0, 1] });
    const wT = call(backendName, tf.Transpose, backend, { x: flipped }, { perm: [0, 1, 3, 2] });
    release(backend, flipped);
    const dx = call(backendName, tf.Conv2D, backend, { x: dy, filter: wT }, {
      strides: [1, 1], dilations: [1, 1], dataFormat: 'NHWC', pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
    });
    release(backend, wT);
    return dx;
  };
}
