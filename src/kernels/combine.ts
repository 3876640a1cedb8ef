/**
 * The ResCL combination on webgpu (`COMBINE_KERNEL`, `COMBINE_GRAD_KERNEL`, `COMBINE_GRADS_KERNEL`,
 * math in src/core/combineKernel.ts): forward 1 program (ReLU included when asked); backward 1
 * program for ∂z_t, ∂α_s, ∂α_t of a unit fed by the data, else 2 (∂z_s and ∂z_t elementwise; ∂α_s
 * and ∂α_t one invocation per channel, compensated sums as in batchNorm.ts), the ReLU mask folded
 * into each, instead of tfjs's ~4 forward and ~8 backward kernels plus ReLU's 1 forward and 2
 * backward. The grouped programs compute each value with the same float32 operations in the same
 * order as the one-gradient programs (`COMBINE_GRAD_KERNEL`, kept for a gradient asked for alone).
 */
import type * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { COMBINE_GRAD_GROUPS, type CombineAttrs, type CombineGradAttrs, type CombineGradOutput, type CombineGradsAttrs, type CombineGradGroup } from '../core/combineKernel';
import type { KernelArgs } from './compose';
import { channelSum, flat, runFlat, type FlatUniform } from './flatProgram';
import { dispatchWithOutputs, IN_PLACE_WORKGROUP, MAX_WORKGROUPS, outputsThenInputs, pipelineFor, type WebGPUInternals } from './inPlace';

const forwardBody = (relu: boolean) => `
        let c = index % uniforms.channels;
        let v = (alphaSource[c] + 1.0) * zs[index] + alphaTarget[c] * zt[index];
        setOutputAtIndex(index, ${relu ? 'max(v, 0.0)' : 'v'});`;
/** WGSL for g at element `i`: dy masked by ReLU's gate when the forward applied ReLU. */
const gradAt = (i: string, relu: boolean) => (relu ? `select(0.0, dy[${i}], y[${i}] > 0.0)` : `dy[${i}]`);
const GRAD_BODIES: Record<CombineGradOutput, (relu: boolean) => string> = {
  zs: (relu) => `
        let c = index % uniforms.channels;
        setOutputAtIndex(index, ${gradAt('index', relu)} * (alphaSource[c] + 1.0));`,
  zt: (relu) => `
        let c = index % uniforms.channels;
        setOutputAtIndex(index, ${gradAt('index', relu)} * alphaTarget[c]);`,
  alphaSource: (relu) => `
        let c = index;
        ${channelSum(`${gradAt('at', relu)} * zs[at]`)}
        setOutputAtIndex(index, sum);`,
  alphaTarget: (relu) => `
        let c = index;
        ${channelSum(`${gradAt('at', relu)} * zt[at]`)}
        setOutputAtIndex(index, sum);`,
};
/** The inputs each gradient's program reads besides dy (and y under ReLU). */
const GRAD_READS: Record<CombineGradOutput, 'alphaSource' | 'alphaTarget' | 'zs' | 'zt'> = { zs: 'alphaSource', zt: 'alphaTarget', alphaSource: 'zs', alphaTarget: 'zt' };
const GRAD_KEYS: Record<CombineGradOutput, string> = { zs: 'resclCombineDzs', zt: 'resclCombineDzt', alphaSource: 'resclCombineDAlphaS', alphaTarget: 'resclCombineDAlphaT' };

function check(z: tf.TensorInfo, tensors: tf.TensorInfo[], kernel: string): { channels: number; size: number; uniforms: FlatUniform[] } {
  const channels = z.shape[z.shape.length - 1];
  const size = z.shape.reduce((a, b) => a * b, 1);
  if (tensors.some((t) => t.dtype !== 'float32') || z.shape.length < 1 || channels < 1) {
    throw new Error(`${kernel}: expected float32 z [..., C] and α [C]; got z ${z.dtype} [${z.shape}]`);
  }
  return { channels, size, uniforms: [{ name: 'channels', type: 'i32', value: channels }, { name: 'positions', type: 'i32', value: size / channels }] };
}

/** A gradient kernel's arguments, checked: inputs dy, y, zs, zt, alphaSource, alphaTarget. */
function gradCall(raw: unknown, kernel: string): { args: KernelArgs } & ReturnType<typeof check> {
  const args = raw as KernelArgs;
  const { dy, y, zs, zt, alphaSource, alphaTarget } = args.inputs;
  return { args, ...check(zs, [dy, y, zs, zt, alphaSource, alphaTarget], kernel) };
}

/** y = (1 + α_s) ⊙ z_s + α_t ⊙ z_t, then ReLU when `relu`, in one program. */
export function combineWebGPU(): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { zs, zt, alphaSource, alphaTarget } = args.inputs;
    const { relu } = args.attrs as unknown as CombineAttrs;
    const { size, uniforms } = check(zs, [zs, zt, alphaSource, alphaTarget], 'ResclCombine');
    const backend = args.backend as unknown as WebGPUBackend;
    const y = runFlat(backend, relu ? 'resclCombineRelu' : 'resclCombine', [['zs', flat(zs, size)], ['zt', flat(zt, size)], ['alphaSource', alphaSource], ['alphaTarget', alphaTarget]], uniforms, [size], forwardBody(relu));
    return { ...y, shape: zs.shape };
  };
}

/** One of ∂z_s, ∂z_t, ∂α_s, ∂α_t (attrs.output) in one program. */
export function combineGradWebGPU(): tf.KernelFunc {
  return (raw) => {
    const { args, channels, size, uniforms } = gradCall(raw, 'ResclCombineGrad');
    const { dy, y, zs, zt, alphaSource, alphaTarget } = args.inputs;
    const { relu, output } = args.attrs as unknown as CombineGradAttrs;
    if (!(output in GRAD_BODIES)) throw new Error(`ResclCombineGrad: unknown output '${String(output)}'`);
    const backend = args.backend as unknown as WebGPUBackend;
    const read = GRAD_READS[output];
    const all: Record<string, tf.TensorInfo> = { zs: flat(zs, size), zt: flat(zt, size), alphaSource, alphaTarget };
    const inputs: [string, tf.TensorInfo][] = [['dy', flat(dy, size)], ...(relu ? [['y', flat(y, size)] as [string, tf.TensorInfo]] : []), [read, all[read]]];
    const perChannel = output === 'alphaSource' || output === 'alphaTarget';
    const out = runFlat(backend, `${GRAD_KEYS[output]}${relu ? 'Relu' : ''}`, inputs, uniforms, [perChannel ? channels : size], GRAD_BODIES[output](relu));
    return perChannel ? out : { ...out, shape: zs.shape };
  };
}

/** WGSL of one COMBINE_GRADS_KERNEL group: outputs (read_write), then inputs, then the uniforms. */
function groupShader(group: CombineGradGroup, relu: boolean): string {
  const outputs = COMBINE_GRAD_GROUPS[group];
  const inputs = ['dy', ...(relu ? ['y'] : []), ...GROUP_READS[group]];
  const perElement = `
  let index = i32(gid.x);
  if (index >= uniforms.positions * uniforms.channels) { return; }
  let c = index % uniforms.channels;
  let g = ${gradAt('index', relu)};
  d_zs[index] = g * (alphaSource[c] + 1.0);
  d_zt[index] = g * alphaTarget[c];`;
  // two (three) running compensated sums in channelSum's order, so the values equal the one-gradient programs'
  const perChannel = `
  let c = i32(gid.x);
  if (c >= uniforms.channels) { return; }
  var sumS = 0.0;
  var compS = 0.0;
  var sumT = 0.0;
  var compT = 0.0;
  for (var p = 0; p < uniforms.positions; p++) {
    let at = p * uniforms.channels + c;
    let g = ${gradAt('at', relu)};${group === 'targetAndAlphas' ? `
    d_zt[at] = g * alphaTarget[c];` : ''}
    let ykS = (g * zs[at]) - compS;
    let tS = sumS + ykS;
    compS = (tS - sumS) - ykS;
    sumS = tS;
    let ykT = (g * zt[at]) - compT;
    let tT = sumT + ykT;
    compT = (tT - sumT) - ykT;
    sumT = tT;
  }
  d_alphaSource[c] = sumS;
  d_alphaTarget[c] = sumT;`;
  return `
struct Uniforms {
  pad : i32,
  channels : i32,
  positions : i32,
};
${outputsThenInputs(outputs.map((o) => `d_${o}`), inputs)}
@compute @workgroup_size(${IN_PLACE_WORKGROUP}, 1, 1)
fn main(@builtin(global_invocation_id) gid : vec3<u32>) {${group === 'inputs' ? perElement : perChannel}
}`;
}
/** The inputs each group's program reads besides dy (and y under ReLU). */
const GROUP_READS: Record<CombineGradGroup, ('zs' | 'zt' | 'alphaSource' | 'alphaTarget')[]> = {
  inputs: ['alphaSource', 'alphaTarget'], alphas: ['zs', 'zt'], targetAndAlphas: ['zs', 'zt', 'alphaTarget'],
};
const GROUP_KEYS: Record<CombineGradGroup, string> = { inputs: 'resclCombineGradsZ', alphas: 'resclCombineGradsAlpha', targetAndAlphas: 'resclCombineGradsZtAlpha' };

/**
 * Several of ∂z_s, ∂z_t, ∂α_s, ∂α_t (attrs.outputs, COMBINE_GRAD_GROUPS's order) in one program with
 * one output per gradient; where the dispatch would exceed tfjs's workgroup limit, one
 * COMBINE_GRAD_KERNEL program per gradient instead.
 */
export function combineGradsWebGPU(): tf.KernelFunc {
  const single = combineGradWebGPU();
  return (raw) => {
    const { args, channels, size, uniforms } = gradCall(raw, 'ResclCombineGrads');
    const { dy, y, zs, zt, alphaSource, alphaTarget } = args.inputs;
    const { relu, outputs } = args.attrs as unknown as CombineGradsAttrs;
    if (!(outputs in COMBINE_GRAD_GROUPS)) throw new Error(`ResclCombineGrads: unknown outputs '${String(outputs)}'`);
    const names = COMBINE_GRAD_GROUPS[outputs];
    const invocations = outputs === 'inputs' ? size : channels;
    if (Math.ceil(invocations / IN_PLACE_WORKGROUP) > MAX_WORKGROUPS) {
      return names.map((output) => single({ ...args, attrs: { relu, output } } as never) as tf.TensorInfo);
    }
    const backend = args.backend as unknown as WebGPUInternals;
    const key = `${GROUP_KEYS[outputs]}${relu ? 'Relu' : ''}`;
    const pipeline = pipelineFor(backend.device, key, () => groupShader(outputs, relu));
    const all: Record<string, tf.TensorInfo> = { dy, y, zs, zt, alphaSource, alphaTarget };
    const reads = ['dy', ...(relu ? ['y'] : []), ...GROUP_READS[outputs]].map((name) => all[name]);
    const shapes = names.map((name) => (name === 'zs' || name === 'zt' ? zs.shape : [channels]));
    return dispatchWithOutputs(backend, key, pipeline, shapes, reads, invocations, uniforms.map((u) => ({ type: 'int32' as const, data: [u.value] })));
  };
}
