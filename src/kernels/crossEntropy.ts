/**
 * The fused softmax cross-entropy (`SOFTMAX_CROSS_ENTROPY_KERNEL` and its gradient
 * `SOFTMAX_CROSS_ENTROPY_GRAD_KERNEL`, src/core/losses.ts) on webgpu: logits z [N, K] float32,
 * labels y [N] int32 (and the gradient's incoming scalar dy);
 *   loss = −(1/N) Σ_r log softmax(z_r)[y_r]                      (scalar)
 *   ∂loss/∂z = dy · (softmax(z) − onehot(y)) / N                 [N, K]
 * with softmax(z_r)_c = exp(z_rc − m_r) / Σ_j exp(z_rj − m_r), m_r = max_j z_rj. A label outside
 * [0, K) contributes nothing to the loss and gets a zero gradient row (tfjs's oneHot gives a zero row). Two programs instead of tfjs's
 * ~11 forward (logSoftmax, oneHot, mul, sum, mean, neg) and ~8 backward kernels: the loss (one
 * invocation looping over the N rows, so the sum has one fixed order) and, in the backward pass,
 * the gradient (one invocation per element, each recomputing its row's max and sum: K is a class
 * count), the incoming dy multiplied in last as tfjs's own multiply would.
 */
import type * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { KernelArgs } from './compose';
import { checkScalarGradient, runFlat, type FlatUniform } from './flatProgram';

/** WGSL: m (row max) and s (Σ exp(z − m)) of row `r` of `z`, K = uniforms.cols. */
const ROW_STATS = `
        let K = uniforms.cols;
        let base = r * K;
        var m = z[base];
        for (var j = 1; j < K; j++) { m = max(m, z[base + j]); }
        var s = 0.0;
        for (var j = 0; j < K; j++) { s = s + exp(z[base + j] - m); }`;

const GRAD_BODY = `
        let r = index / uniforms.cols;
        let c = index - r * uniforms.cols;
        ${ROW_STATS}
        let label = y[r];
        var g = 0.0;
        if (label >= 0 && label < K) {
          var t = 0.0;
          if (c == label) { t = 1.0; }
          g = (exp(z[index] - m) / s - t) / f32(uniforms.rows);
        }
        setOutputAtIndex(index, upstream[0] * g);`;

const LOSS_BODY = `
        var total = 0.0;
        for (var r = 0; r < uniforms.rows; r++) {
          ${ROW_STATS}
          let label = y[r];
          if (label >= 0 && label < K) { total = total + ((z[base + label] - m) - log(s)); }
        }
        setOutputAtIndex(0, -(total / f32(uniforms.rows)));`;

function checked(args: KernelArgs, kernel: string): { logits: tf.TensorInfo; labels: tf.TensorInfo; uniforms: FlatUniform[]; backend: WebGPUBackend } {
  const { logits, labels } = args.inputs;
  if (logits.dtype !== 'float32' || logits.shape.length !== 2 || labels.dtype !== 'int32' || labels.shape.length !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new Error(`${kernel}: expected float32 logits [N, K] and int32 labels [N]; got ${logits.dtype} [${logits.shape}], ${labels.dtype} [${labels.shape}]`);
  }
  const [rows, cols] = logits.shape;
  const uniforms: FlatUniform[] = [{ name: 'rows', type: 'i32', value: rows }, { name: 'cols', type: 'i32', value: cols }];
  return { logits, labels, uniforms, backend: args.backend as unknown as WebGPUBackend };
}

/** The loss kernel on `webgpu`: [loss []] in one program. */
export function softmaxCrossEntropyWebGPU(): tf.KernelFunc {
  return (raw) => {
    const { logits, labels, uniforms, backend } = checked(raw as unknown as KernelArgs, 'ResclSoftmaxCrossEntropy');
    const loss = runFlat(backend, 'resclSoftmaxXentLoss', [['z', logits], ['y', labels]], uniforms, [1], LOSS_BODY);
    // made as [1]; a scalar by relabelling (tfjs-webgpu keys data by dataId, as its own Reshape does)
    return { ...loss, shape: [] };
  };
}

/** The gradient kernel on `webgpu`: [dy · ∂loss/∂z [N, K]] in one program. */
export function softmaxCrossEntropyGradWebGPU(): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { logits, labels, uniforms, backend } = checked(args, 'ResclSoftmaxCrossEntropyGrad');
    const { dy } = args.inputs;
    checkScalarGradient(dy, 'ResclSoftmaxCrossEntropyGrad');
    return runFlat(backend, 'resclSoftmaxXentGrad', [['z', logits], ['y', labels], ['upstream', dy]], uniforms, logits.shape, GRAD_BODY);
  };
}
