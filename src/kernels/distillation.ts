/**
 * The fused distillation loss (`DISTILLATION_KERNEL`, src/core/losses.ts) on webgpu: inputs teacher
 * logits ŷ [N, K] (columns teacherOffset.. of a wider tensor: several heads' teachers gathered at
 * once) and student logits z [N, K] (float32), attr temperature T (and the gradient's incoming
 * scalar dy);
 *   KD = T² · (1/N) Σ_r Σ_k q_rk (log q_rk − log p_rk)            (scalar)
 *   ∂KD/∂z = dy · (T/N) · (p − q)                                 [N, K]
 * with q = softmax(ŷ/T), p = softmax(z/T). One program forward and one backward instead of tfjs's
 * ~12 forward and ~12 backward kernels per term: the loss (one invocation looping over the rows)
 * and the gradient (one invocation per element, recomputing its row's statistics: K is a class
 * count). Both do
 * tfjs's float32 operations in tfjs's order, sums included (its ReduceProgram's thread/tree order),
 * so the result is the composite's to the bit where the compiled exp/log agree: in the combine
 * stage the student starts equal to its teacher, p − q is ~0 and made of rounding, and Adam's first
 * steps move by ±lr whatever the gradient's size, so a reordered formula drifted from the stock
 * path (5e-4 to 9e-3 over 20 steps, `npm run bench -- --check`).
 */
import type * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { DistillationAttrs } from '../core/losses';
import type { KernelArgs } from './compose';
import { checkScalarGradient, REDUCE_THREADS, runFlat, treeSum, type FlatUniform } from './flatProgram';

/**
 * tfjs's logSoftmax of row r of `m` / T, as its ops round: s = m/T; sh = s − max(s);
 * log p = sh − log Σ exp(sh). `rowMax` and `rowLse` give the two row constants.
 */
function rowStats(m: string, at: (r: string, k: string) => string): string {
  return `
    fn ${m}Max(r : i32) -> f32 {
      var best = ${at('r', '0')} / uniforms.temperature;
      for (var k = 1; k < uniforms.cols; k++) { best = max(best, ${at('r', 'k')} / uniforms.temperature); }
      return best;
    }
    fn ${m}Lse(r : i32, mx : f32) -> f32 {
      accClear();
      for (var k = 0; k < uniforms.cols; k++) {
        let sh = ${at('r', 'k')} / uniforms.temperature - mx;
        acc[k % ${REDUCE_THREADS}] = acc[k % ${REDUCE_THREADS}] + exp(sh);
      }
      return log(accFinish(uniforms.cols));
    }
    fn ${m}LogSoftmax(r : i32, k : i32, mx : f32, lse : f32) -> f32 {
      let sh = ${at('r', 'k')} / uniforms.temperature - mx;
      return sh - lse;
    }`;
}

// the teacher's K columns start at teacherOffset in rows of teacherCols (several heads' teachers in one tensor)
const HELPERS = `${treeSum('acc')}${treeSum('rowAcc')}${rowStats('teacher', (r, k) => `teacher[${r} * uniforms.teacherCols + uniforms.teacherOffset + ${k}]`)}${rowStats('student', (r, k) => `student[${r} * uniforms.cols + ${k}]`)}`;

/**
 * ∂KD/∂z as tfjs's autodiff computes it: dy_k = −(c · q_k) with c = T²/N (mean and sum gradients),
 * then logSoftmax's gradient dy_k − (Σ_j dy_j) · p_k, then ÷ T; times the incoming scalar last.
 */
const GRAD_BODY = `
        let r = index / uniforms.cols;
        let k = index - r * uniforms.cols;
        let c = uniforms.tt / f32(uniforms.rows);
        let mt = teacherMax(r);
        let lt = teacherLse(r, mt);
        let ms = studentMax(r);
        let ls = studentLse(r, ms);
        accClear();
        for (var j = 0; j < uniforms.cols; j++) {
          let dyj = -(c * exp(teacherLogSoftmax(r, j, mt, lt)));
          acc[j % ${REDUCE_THREADS}] = acc[j % ${REDUCE_THREADS}] + dyj;
        }
        let total = accFinish(uniforms.cols);
        let dy = -(c * exp(teacherLogSoftmax(r, k, mt, lt)));
        let p = exp(studentLogSoftmax(r, k, ms, ls));
        setOutputAtIndex(index, upstream[0] * ((dy - total * p) / uniforms.temperature));`;

/** KD = mean over rows of Σ_k q_k (log q_k − log p_k), × T², with tfjs's sums' order. */
const LOSS_BODY = `
        rowAccClear();
        for (var r = 0; r < uniforms.rows; r++) {
          let mt = teacherMax(r);
          let lt = teacherLse(r, mt);
          let ms = studentMax(r);
          let ls = studentLse(r, ms);
          accClear();
          for (var k = 0; k < uniforms.cols; k++) {
            let logq = teacherLogSoftmax(r, k, mt, lt);
            let d = logq - studentLogSoftmax(r, k, ms, ls);
            acc[k % ${REDUCE_THREADS}] = acc[k % ${REDUCE_THREADS}] + exp(logq) * d;
          }
          rowAcc[r % ${REDUCE_THREADS}] = rowAcc[r % ${REDUCE_THREADS}] + accFinish(uniforms.cols);
        }
        setOutputAtIndex(0, (rowAccFinish(uniforms.rows) / f32(uniforms.rows)) * uniforms.tt);`;
/** LOSS_BODY plus an earlier sum `base` (added last, as an AddN of the terms would). */
const LOSS_WITH_BASE_BODY = LOSS_BODY.replace('setOutputAtIndex(0, (', 'setOutputAtIndex(0, base[0] + (');

function checked(args: KernelArgs, kernel: string): { teacher: tf.TensorInfo; student: tf.TensorInfo; uniforms: FlatUniform[]; backend: WebGPUBackend } {
  const { teacher, student } = args.inputs;
  const { temperature, teacherOffset = 0 } = args.attrs as unknown as DistillationAttrs;
  const fits = teacher.shape.length === 2 && student.shape.length === 2 && teacher.shape[0] === student.shape[0]
    && Number.isInteger(teacherOffset) && teacherOffset >= 0 && teacherOffset + student.shape[1] <= teacher.shape[1];
  if (teacher.dtype !== 'float32' || student.dtype !== 'float32' || !fits || !(temperature > 0)) {
    throw new Error(`${kernel}: expected float32 student logits [N, K] and teacher logits [N, ≥ offset + K], T > 0; got teacher ${teacher.dtype} [${teacher.shape}] from column ${teacherOffset}, student ${student.dtype} [${student.shape}], T = ${temperature}`);
  }
  const [rows, cols] = student.shape;
  const uniforms: FlatUniform[] = [
    { name: 'rows', type: 'i32', value: rows }, { name: 'cols', type: 'i32', value: cols },
    { name: 'temperature', type: 'f32', value: temperature }, { name: 'tt', type: 'f32', value: temperature * temperature },
    { name: 'teacherCols', type: 'i32', value: teacher.shape[1] }, { name: 'teacherOffset', type: 'i32', value: teacherOffset },
  ];
  return { teacher, student, uniforms, backend: args.backend as unknown as WebGPUBackend };
}

/** The loss kernel on `webgpu`: [KD []] in one program. */
export function distillationWebGPU(): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { teacher, student, uniforms, backend } = checked(args, 'ResclDistillation');
    const { base } = args.inputs;
    if (base) checkScalarGradient(base, 'ResclDistillation (base)');
    const loss = base
      ? runFlat(backend, 'resclDistillationLossPlus', [['teacher', teacher], ['student', student], ['base', base]], uniforms, [1], LOSS_WITH_BASE_BODY, HELPERS)
      : runFlat(backend, 'resclDistillationLoss', [['teacher', teacher], ['student', student]], uniforms, [1], LOSS_BODY, HELPERS);
    // made as [1]; a scalar by relabelling (tfjs-webgpu keys data by dataId, as its own Reshape does)
    return { ...loss, shape: [] };
  };
}

/** The gradient kernel on `webgpu`: [dy · ∂KD/∂z [N, K]] in one program. */
export function distillationGradWebGPU(): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { teacher, student, uniforms, backend } = checked(args, 'ResclDistillationGrad');
    const { dy } = args.inputs;
    checkScalarGradient(dy, 'ResclDistillationGrad');
    return runFlat(backend, 'resclDistillationGrad', [['teacher', teacher], ['student', student], ['upstream', dy]], uniforms, student.shape, GRAD_BODY, HELPERS);
  };
}
