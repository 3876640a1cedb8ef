/**
 * Plain-data (de)serialisation of a `Net`: one Float32Array per variable plus the static spec
 * (kind, width, topology, unit specs, heads). The result survives `structuredClone`, so it can be
 * stored in IndexedDB or posted to another thread, and `deserializeNet(serializeNet(n))` computes
 * exactly what `n` computes (same values, same topology, new variables).
 */
import * as tf from '@tensorflow/tfjs';
import type { NetKind } from './names';
import { isNetKind } from './names';
import { makeVariable, type BatchNormParams, type HeadParams, type Net, type TopologyNode, type UnitParams, type UnitSpec } from './nets';

/** One variable's values: shape and float32 data (row-major). */
export interface SerializedTensor {
  shape: number[];
  data: Float32Array;
}

/** One unit: its spec and whichever of kernel / bias / BN it has. */
export interface SerializedUnit {
  spec: UnitSpec;
  kernel?: SerializedTensor;
  bias?: SerializedTensor;
  bn?: { gamma: SerializedTensor; beta: SerializedTensor; movingMean: SerializedTensor; movingVariance: SerializedTensor };
}

/** A whole network as plain data. */
export interface SerializedNet {
  format: 'rescl-net';
  version: 1;
  kind: NetKind;
  width: number;
  featureSize: number;
  topology: TopologyNode[];
  units: SerializedUnit[];
  heads: { taskId: string; numClasses: number; kernel: SerializedTensor; bias: SerializedTensor }[];
}

async function readTensor(v: tf.Tensor): Promise<SerializedTensor> {
  return { shape: [...v.shape], data: Float32Array.from(await v.data()) };
}

/** Reads every variable of `net` back from the backend into plain arrays. */
export async function serializeNet(net: Net): Promise<SerializedNet> {
  const units: SerializedUnit[] = [];
  for (const u of net.units.values()) {
    const s: SerializedUnit = { spec: { ...u.spec } };
    if (u.kernel) s.kernel = await readTensor(u.kernel);
    if (u.bias) s.bias = await readTensor(u.bias);
    if (u.bn) {
      s.bn = {
        gamma: await readTensor(u.bn.gamma), beta: await readTensor(u.bn.beta),
        movingMean: await readTensor(u.bn.movingMean), movingVariance: await readTensor(u.bn.movingVariance),
      };
    }
    units.push(s);
  }
  const heads = [];
  for (const h of net.heads) heads.push({ taskId: h.taskId, numClasses: h.numClasses, kernel: await readTensor(h.kernel), bias: await readTensor(h.bias) });
  return {
    format: 'rescl-net', version: 1, kind: net.kind, width: net.width, featureSize: net.featureSize,
    topology: structuredClone(net.topology), units, heads,
  };
}

function checkTensor(t: SerializedTensor | undefined, what: string): SerializedTensor {
  if (!t || !Array.isArray(t.shape) || !(t.data instanceof Float32Array)) throw new Error(`serialized net: ${what} is missing or not a Float32Array`);
  const size = t.shape.reduce((a, b) => a * b, 1);
  if (size !== t.data.length) throw new Error(`serialized net: ${what} has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
  for (let i = 0; i < t.data.length; i++) if (!Number.isFinite(t.data[i])) throw new Error(`serialized net: ${what} has a non-finite value at ${i}`);
  return t;
}

/**
 * Rebuilds a `Net` (new variables; BN statistics non-trainable) from plain data.
 * Throws a clear error when the data is not a serialized net or a tensor does not fit its shape.
 */
export function deserializeNet(s: SerializedNet): Net {
  if (!s || s.format !== 'rescl-net' || s.version !== 1) throw new Error('serialized net: not a rescl-net v1 record');
  if (!isNetKind(s.kind)) throw new Error(`serialized net: unknown kind ${String(s.kind)}`);
  // validate everything before creating any variable, so a bad record leaks nothing
  for (const u of s.units) {
    if (u.kernel) checkTensor(u.kernel, `${u.spec.id}/kernel`);
    if (u.bias) checkTensor(u.bias, `${u.spec.id}/bias`);
    if (u.bn) for (const k of ['gamma', 'beta', 'movingMean', 'movingVariance'] as const) checkTensor(u.bn[k], `${u.spec.id}/bn.${k}`);
  }
  for (const h of s.heads) { checkTensor(h.kernel, `head ${h.taskId} kernel`); checkTensor(h.bias, `head ${h.taskId} bias`); }
  const make = (t: SerializedTensor, name: string, trainable = true) => makeVariable(tf.tensor(t.data, t.shape, 'float32'), name, trainable);
  const units = new Map<string, UnitParams>();
  for (const u of s.units) {
    const id = u.spec.id;
    const bn: BatchNormParams | undefined = u.bn && {
      gamma: make(u.bn.gamma, `${id}/bn_gamma`),
      beta: make(u.bn.beta, `${id}/bn_beta`),
      movingMean: make(u.bn.movingMean, `${id}/bn_mean`, false),
      movingVariance: make(u.bn.movingVariance, `${id}/bn_var`, false),
    };
    units.set(id, {
      spec: { ...u.spec },
      kernel: u.kernel && make(u.kernel, `${id}/kernel`),
      bias: u.bias && make(u.bias, `${id}/bias`),
      bn,
    });
  }
  const heads: HeadParams[] = s.heads.map((h) => ({
    taskId: h.taskId, numClasses: h.numClasses,
    kernel: make(h.kernel, `head_${h.taskId}/kernel`), bias: make(h.bias, `head_${h.taskId}/bias`),
  }));
  return { kind: s.kind, topology: structuredClone(s.topology), units, heads, featureSize: s.featureSize, width: s.width };
}

/** Bytes of float data a serialized net holds (for size limits and storage reports). */
export function serializedBytes(s: SerializedNet): number {
  let n = 0;
  const add = (t?: SerializedTensor) => { n += t ? t.data.byteLength : 0; };
  for (const u of s.units) { add(u.kernel); add(u.bias); if (u.bn) Object.values(u.bn).forEach(add); }
  for (const h of s.heads) { add(h.kernel); add(h.bias); }
  return n;
}
