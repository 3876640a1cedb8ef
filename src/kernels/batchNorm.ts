/**
 * Batch norm in training mode on webgpu (`BN_TRAINING_KERNEL`, `BN_TRAINING_GRAD_KERNEL`,
 * src/core/batchNormKernel.ts has the math): 2 programs forward (μ and σ² in one two-output
 * program, then y with the ReLU when asked) and 2 backward (∂β and ∂γ in one, after ReLU's gate on
 * dy when asked, written out by the same program; then ∂x) instead of the ~6 forward and ~13
 * backward tfjs kernels of the core's composite; and inference mode's gradient
 * (`BN_INFERENCE_GRAD_KERNEL`) in 1 program (frozen) or 2.
 *
 * Channels last: element i of x is channel i mod C, M = size / C positions per channel. The
 * per-channel sums run one invocation per channel over its M positions, compensated (Kahan), in
 * one fixed order: few dispatches, but only C threads; at batch 128 a 28x28 layer is M ≈ 100k
 * loads per thread (not yet timed on a GPU, see docs/PERFORMANCE.md). The multi-output programs
 * go through inPlace.ts's `dispatchWithOutputs` (tfjs's programs have one output).
 */
import type * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { KernelArgs } from './compose';
import { channelSum, flat, runFlat, type FlatUniform } from './flatProgram';
import { dispatchWithOutputs, IN_PLACE_WORKGROUP, outputsThenInputs, pipelineFor, type WebGPUInternals } from './inPlace';

const normalizeBody = (relu: boolean) => `
        let c = index % uniforms.channels;
        let v = (x[index] - mean[c]) * inverseSqrt(variance[c] + uniforms.epsilon) * gamma[c] + beta[c];
        setOutputAtIndex(index, ${relu ? 'max(v, 0.0)' : 'v'});`;

const DX_BODY = `
        let c = index % uniforms.channels;
        let inv = inverseSqrt(variance[c] + uniforms.epsilon);
        let m = f32(uniforms.positions);
        let normalized = (x[index] - mean[c]) * inv;
        let scale = (gamma[c] * inv) / m;
        setOutputAtIndex(index, ((dy[index] * m - dBeta[c]) - normalized * dGamma[c]) * scale);`;

/**
 * A per-channel program with several outputs (inPlace.ts `dispatchWithOutputs`): one invocation per
 * channel c, `body` sees `c`, uniforms channels, positions, epsilon, the outputs (read_write) and
 * the inputs by name. `compensated(name, term)` is channelSum's loop writing its sum to `name`.
 */
function perChannelShader(outputs: string[], inputs: string[], body: string): string {
  return `
struct Uniforms {
  pad : i32,
  channels : i32,
  positions : i32,
  epsilon : f32,
};
${outputsThenInputs(outputs, inputs)}
@compute @workgroup_size(${IN_PLACE_WORKGROUP}, 1, 1)
fn main(@builtin(global_invocation_id) gid : vec3<u32>) {
  let c = i32(gid.x);
  if (c >= uniforms.channels) { return; }
  ${body}
}`;
}

/** WGSL: `name` = channelSum(term) (the same compensated loop, in its own block). */
const compensated = (name: string, term: string) => `
  var ${name} = 0.0;
  {
    ${channelSum(term)}
    ${name} = sum;
  }`;

/** μ = Σx / M, then σ² = Σ(x − μ)² / M, of channel c in one invocation (two compensated passes). */
const MOMENTS_BODY = `${compensated('total', 'x[at]')}
  let mu = total / f32(uniforms.positions);
  mean[c] = mu;
  ${compensated('squares', '(x[at] - mu) * (x[at] - mu)')}
  variance[c] = squares / f32(uniforms.positions);`;

/**
 * ∂β = Σ g and ∂γ = Σ g · (x − μ)/√(σ² + ε) of channel c, with g = dy, or under relu ReLU's gate
 * g = dy where the forward output y > 0, else 0, first written out (`gated`) for ∂x's program.
 */
const shiftsBody = (relu: boolean) => `
  let mu = mean[c];
  let inv = inverseSqrt(variance[c] + uniforms.epsilon);${relu ? `
  for (var p = 0; p < uniforms.positions; p++) {
    let at = p * uniforms.channels + c;
    gated[at] = select(0.0, dy[at], y[at] > 0.0);
  }` : ''}
  ${compensated('betaSum', relu ? 'gated[at]' : 'dy[at]')}
  dBeta[c] = betaSum;
  ${compensated('gammaSum', `${relu ? 'gated[at]' : 'dy[at]'} * ((x[at] - mu) * inv)`)}
  dGamma[c] = gammaSum;`;

/** Runs one per-channel program; its outputs in `outputs` order ([C] each unless `shapes` says). */
function runPerChannel(
  backend: WebGPUBackend, key: string, outputs: string[], shapes: number[][], inputs: [string, tf.TensorInfo][], shape: Shape, body: () => string,
): tf.TensorInfo[] {
  const internals = backend as unknown as WebGPUInternals;
  const pipeline = pipelineFor(internals.device, key, () => perChannelShader(outputs, inputs.map(([name]) => name), body()));
  const uniforms = shape.uniforms.map((u) => ({ type: u.type === 'i32' ? 'int32' as const : 'float32' as const, data: [u.value] }));
  return dispatchWithOutputs(internals, key, pipeline, shapes, inputs.map(([, info]) => info), shape.channels, uniforms);
}

interface Shape { channels: number; size: number; uniforms: FlatUniform[] }

function shapeOf(x: tf.TensorInfo, tensors: tf.TensorInfo[], epsilon: number, kernel: string): Shape {
  const channels = x.shape[x.shape.length - 1];
  const size = x.shape.reduce((a, b) => a * b, 1);
  if (x.shape.length < 2 || tensors.some((t) => t.dtype !== 'float32') || channels < 1) {
    throw new Error(`${kernel}: expected float32 x [..., C] and float32 parameters; got x ${x.dtype} [${x.shape}]`);
  }
  const uniforms: FlatUniform[] = [
    { name: 'channels', type: 'i32', value: channels }, { name: 'positions', type: 'i32', value: size / channels },
    { name: 'epsilon', type: 'f32', value: epsilon },
  ];
  return { channels, size, uniforms };
}

/** [y, μ, σ²] on webgpu in 2 programs. */
export function batchNormTrainingWebGPU(): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { x, gamma, beta } = args.inputs;
    const { epsilon, relu } = args.attrs as { epsilon: number; relu?: boolean };
    const { channels, size, uniforms } = shapeOf(x, [x, gamma, beta], epsilon, 'ResclBatchNormTraining');
    const backend = args.backend as unknown as WebGPUBackend;
    const xs = flat(x, size);
    const [mean, variance] = runPerChannel(backend, 'resclBnMoments', ['mean', 'variance'], [[channels], [channels]], [['x', xs]], { channels, size, uniforms }, () => MOMENTS_BODY);
    const y = runFlat(backend, relu ? 'resclBnNormalizeRelu' : 'resclBnNormalize', [['x', xs], ['mean', mean], ['variance', variance], ['gamma', gamma], ['beta', beta]], uniforms, [size], normalizeBody(!!relu));
    return [{ ...y, shape: x.shape }, mean, variance];
  };
}

const INFERENCE_DX_BODY = `
        let c = index % uniforms.channels;
        setOutputAtIndex(index, dy[index] * (gamma[c] * inverseSqrt(variance[c] + uniforms.epsilon)));`;

/** INFERENCE_DX_BODY for every position of channel c (per-channel programs). */
const INFERENCE_DX_LOOP = `
  for (var p = 0; p < uniforms.positions; p++) {
    let at = p * uniforms.channels + c;
    dx[at] = dy[at] * (gamma[c] * inverseSqrt(variance[c] + uniforms.epsilon));
  }`;

/**
 * Inference-mode BN gradient on webgpu, 1 program: ∂x (elementwise) when frozen, else ∂x and
 * ∂γ, ∂β (the same per-channel sums as training's, over the running statistics) from one
 * invocation per channel.
 */
export function batchNormInferenceGradWebGPU(): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { dy, x, mean, variance, gamma } = args.inputs;
    const attrs = args.attrs as { epsilon: number; frozen: boolean };
    const { channels, size, uniforms } = shapeOf(dy, [dy, variance, gamma], attrs.epsilon, 'ResclBatchNormInferenceGrad');
    const backend = args.backend as unknown as WebGPUBackend;
    const dys = flat(dy, size);
    if (attrs.frozen) {
      const dx = runFlat(backend, 'resclBnInferenceDx', [['dy', dys], ['variance', variance], ['gamma', gamma]], uniforms, [size], INFERENCE_DX_BODY);
      return [{ ...dx, shape: dy.shape }];
    }
    const [dx, dBeta, dGamma] = runPerChannel(backend, 'resclBnInferenceGrads', ['dx', 'dBeta', 'dGamma'], [dy.shape, [channels], [channels]],
      [['dy', dys], ['x', flat(x, size)], ['mean', mean], ['variance', variance], ['gamma', gamma]], { channels, size, uniforms },
      () => `${INFERENCE_DX_LOOP}${shiftsBody(false)}`);
    return [dx, dGamma, dBeta];
  };
}

/**
 * [∂x, ∂γ, ∂β] on webgpu in 2 programs: ∂β, ∂γ (and with relu the gated dy, written for the next)
 * in one, then ∂x (it binds the default limit of 8 storage buffers, so the gate cannot ride in it).
 */
export function batchNormTrainingGradWebGPU(): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { dy, x, mean, variance, gamma, y } = args.inputs;
    const { epsilon, relu } = args.attrs as { epsilon: number; relu?: boolean };
    if (relu && !y) throw new Error('ResclBatchNormTrainingGrad: relu needs the forward output y');
    const { channels, size, uniforms } = shapeOf(x, [dy, x, mean, variance, gamma], epsilon, 'ResclBatchNormTrainingGrad');
    const backend = args.backend as unknown as WebGPUBackend;
    const xs = flat(x, size);
    const shape: Shape = { channels, size, uniforms };
    const reads: [string, tf.TensorInfo][] = [['dy', flat(dy, size)], ...(relu ? [['y', flat(y, size)] as [string, tf.TensorInfo]] : []), ['x', xs], ['mean', mean], ['variance', variance]];
    const shifts = relu
      ? runPerChannel(backend, 'resclBnShiftsRelu', ['gated', 'dBeta', 'dGamma'], [[size], [channels], [channels]], reads, shape, () => shiftsBody(true))
      : [null, ...runPerChannel(backend, 'resclBnShifts', ['dBeta', 'dGamma'], [[channels], [channels]], reads, shape, () => shiftsBody(false))];
    const [gated, dBeta, dGamma] = shifts as [tf.TensorInfo | null, tf.TensorInfo, tf.TensorInfo];
    const dys = gated ?? flat(dy, size);
    const dx = runFlat(backend, 'resclBnDx',
      [['dy', dys], ['x', xs], ['mean', mean], ['variance', variance], ['gamma', gamma], ['dBeta', dBeta], ['dGamma', dGamma]], uniforms, [size], DX_BODY);
    if (gated) backend.disposeData(gated.dataId);
    return [{ ...dx, shape: x.shape }, dGamma, dBeta];
  };
}
