/**
 * The fused distillation loss (`DISTILLATION_KERNEL`, src/core/losses.ts) on webgpu: inputs teacher
 * logits ŷ [N, K] and student logits z [N, K] (float32), attr temperature T; outputs
 *   KD = T² · (1/N) Σ_r Σ_k q_rk (log q_rk − log p_rk)            (scalar)
 *   ∂KD/∂z = (T/N) · (p − q)                                      [N, K]
 * with q = softmax(ŷ/T), p = softmax(z/T), each row's log-sum-exp taken about the row maximum (as
 * tfjs's logSoftmax does). Two programs instead of tfjs's ~12 forward and ~12 backward kernels per
 * term: the gradient (one invocation per element, recomputing its row's statistics: K is a class
 * count) and the loss (one invocation looping over the rows, so the sum has one fixed order).
 */
import type * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { KernelArgs } from './compose';
import { runFlat, type FlatUniform } from './flatProgram';

/** WGSL: log-sum-exp of row r of the teacher (lt) and of the student (ls), both divided by T. */
const ROW_STATS = `
        let K = uniforms.cols;
        let base = r * K;
        var mt = teacher[base] * uniforms.invT;
        var ms = student[base] * uniforms.invT;
        for (var j = 1; j < K; j++) { mt = max(mt, teacher[base + j] * uniforms.invT); ms = max(ms, student[base + j] * uniforms.invT); }
        var st = 0.0;
        var ss = 0.0;
        for (var j = 0; j < K; j++) { st = st + exp(teacher[base + j] * uniforms.invT - mt); ss = ss + exp(student[base + j] * uniforms.invT - ms); }
        let lt = mt + log(st);
        let ls = ms + log(ss);`;

const GRAD_BODY = `
        let r = index / uniforms.cols;
        ${ROW_STATS}
        let q = exp(teacher[index] * uniforms.invT - lt);
        let p = exp(student[index] * uniforms.invT - ls);
        setOutputAtIndex(index, (p - q) * (uniforms.temperature / f32(uniforms.rows)));`;

const LOSS_BODY = `
        var total = 0.0;
        for (var r = 0; r < uniforms.rows; r++) {
          ${ROW_STATS}
          for (var k = 0; k < K; k++) {
            let logq = teacher[base + k] * uniforms.invT - lt;
            let logp = student[base + k] * uniforms.invT - ls;
            total = total + exp(logq) * (logq - logp);
          }
        }
        setOutputAtIndex(0, (total / f32(uniforms.rows)) * (uniforms.temperature * uniforms.temperature));`;

/** The kernel on `webgpu`: [KD [], ∂KD/∂z [N, K]] in two programs. */
export function distillationWebGPU(): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { teacher, student } = args.inputs;
    const { temperature } = args.attrs as unknown as { temperature: number };
    const same = teacher.shape.length === 2 && student.shape.length === 2 && teacher.shape[0] === student.shape[0] && teacher.shape[1] === student.shape[1];
    if (teacher.dtype !== 'float32' || student.dtype !== 'float32' || !same || !(temperature > 0)) {
      throw new Error(`ResclDistillation: expected float32 teacher and student logits [N, K] of one shape and T > 0; got ${teacher.dtype} [${teacher.shape}], ${student.dtype} [${student.shape}], T = ${temperature}`);
    }
    const [rows, cols] = student.shape;
    const backend = args.backend as unknown as WebGPUBackend;
    const uniforms: FlatUniform[] = [
      { name: 'rows', type: 'i32', value: rows }, { name: 'cols', type: 'i32', value: cols },
      { name: 'invT', type: 'f32', value: 1 / temperature }, { name: 'temperature', type: 'f32', value: temperature },
    ];
    const inputs: [string, tf.TensorInfo][] = [['teacher', teacher], ['student', student]];
    const grad = runFlat(backend, 'resclDistillationGrad', inputs, uniforms, [rows, cols], GRAD_BODY);
    const loss = runFlat(backend, 'resclDistillationLoss', inputs, uniforms, [1], LOSS_BODY);
    // made as [1]; a scalar by relabelling (tfjs-webgpu keys data by dataId, as its own Reshape does)
    return [{ ...loss, shape: [] }, grad];
  };
}
