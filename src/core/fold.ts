/**
 * Folding net_c into an inference network of the original size, and export as a plain tfjs
 * LayersModel (docs/METHOD.md, "Folding").
 *
 * For each branch b ∈ {s, t} of a unit, write its output as a per-channel affine map of the linear
 * op: unit_b(x) = k_b ⊙ (W_b * x) + c_b, where with BN: k_b = γ_b / √(σ²_b + ε),
 * c_b = β_b − k_b ⊙ (μ_b − bias_b); without BN: k_b = 1, c_b = bias_b (0 if none). Then
 *
 *     W_c = (1+α_s)·k_s·W_s + α_t·k_t·W_t      (scaled per output channel, the kernel's last axis)
 *     b_c = (1+α_s)·c_s + α_t·c_t
 *
 * An affine unit (the BN of a pre-activation block input) folds to scale (1+α_s)k_s·S_s + α_t k_t·S_t
 * (S = its own scale, 1 if none) and the same shift. Each branch uses its own BN statistics.
 * The folded network has plain units with bias and no BN, and the heads of net_c in task order.
 */
import * as tf from '@tensorflow/tfjs';
import { type CombinedNet, combinedHeads, predictCombined } from './combine';
import { BN_EPSILON, countParams, makeVariable, predict, unitVariables, type Net, type TopologyNode, type UnitParams } from './nets';

/** Per-channel affine view of a unit branch: unit(x) = scale ⊙ linear(x) + shift; [C] each. */
function branchAffine(u: UnitParams): { scale: tf.Tensor1D; shift: tf.Tensor1D } {
  const c = u.spec.outChannels;
  const bias = u.bias ?? tf.zeros([c]);
  if (!u.bn) return { scale: tf.ones([c]), shift: bias as tf.Tensor1D };
  const k = tf.div(u.bn.gamma, tf.sqrt(tf.add(u.bn.movingVariance, BN_EPSILON))) as tf.Tensor1D;
  const shift = tf.sub(u.bn.beta, tf.mul(k, tf.sub(u.bn.movingMean, bias))) as tf.Tensor1D;
  return { scale: k, shift };
}

/** The kernel of a branch as a tensor whose last axis is the output channel ([C] of ones for a bare affine unit). */
function branchKernel(u: UnitParams): tf.Tensor {
  return u.kernel ?? tf.ones([u.spec.outChannels]);
}

/**
 * Folds one unit of net_c: returns kernel (same shape as the branches') and bias [C].
 * Exact up to float rounding.
 */
export function foldUnit(c: CombinedNet, unitId: string): { kernel: tf.Tensor; bias: tf.Tensor1D } {
  return tf.tidy(() => {
    const us = c.source.units.get(unitId);
    const ut = c.target.units.get(unitId);
    const as = c.alphaSource.get(unitId);
    const at = c.alphaTarget.get(unitId);
    if (!us || !ut || !as || !at) throw new Error(`unknown unit '${unitId}'`);
    const s = branchAffine(us);
    const t = branchAffine(ut);
    const ws = tf.add(as, 1);
    const kernel = tf.add(tf.mul(branchKernel(us), tf.mul(ws, s.scale)), tf.mul(branchKernel(ut), tf.mul(at, t.scale)));
    const bias = tf.add(tf.mul(ws, s.shift), tf.mul(at, t.shift)) as tf.Tensor1D;
    return { kernel, bias };
  });
}

/**
 * Folds net_c into a plain network: same topology, every unit a plain conv/dense/affine with bias
 * and no BN, heads = net_s's heads then net_t's new head (copied). The result owns new variables.
 */
export function foldCombined(c: CombinedNet): Net {
  const units = new Map<string, UnitParams>();
  for (const [id, u] of c.source.units) {
    const { kernel, bias } = foldUnit(c, id);
    units.set(id, {
      spec: { ...u.spec },
      kernel: makeVariable(kernel, `${id}/kernel`),
      bias: makeVariable(bias, `${id}/bias`),
    });
  }
  const heads = combinedHeads(c).map((h) => ({
    taskId: h.taskId,
    numClasses: h.numClasses,
    kernel: makeVariable(h.kernel.clone(), `head_${h.taskId}/kernel`),
    bias: makeVariable(h.bias.clone(), `head_${h.taskId}/bias`),
  }));
  return { kind: c.source.kind, topology: c.source.topology, units, heads, featureSize: c.source.featureSize, width: c.source.width };
}

/** Result of comparing net_c with its folding on real inputs. */
export interface FoldReport {
  /** max over heads and inputs of |logit_c − logit_folded| */
  maxAbsDiff: number;
  /** max |logit_c|, the scale the difference should be judged against */
  logitScale: number;
  /** parameter counts (all scalars: weights, biases, BN statistics, α) */
  paramCount: { source: number; combined: number; folded: number };
}

/** Scalars of net_c: both branches' trunks (incl. BN statistics), every α, and its heads. */
function countCombined(c: CombinedNet): number {
  let n = 0;
  for (const net of [c.source, c.target]) for (const u of net.units.values()) for (const v of unitVariables(u)) n += v.size;
  for (const v of [...c.alphaSource.values(), ...c.alphaTarget.values()]) n += v.size;
  for (const h of combinedHeads(c)) n += h.kernel.size + h.bias.size;
  return n;
}

/**
 * Checks a folding: max |Δlogit| between net_c and the folded net on inputs x [N, 28, 28, 1]
 * (every head), plus parameter counts.
 */
export async function checkFold(c: CombinedNet, folded: Net, x: tf.Tensor4D): Promise<FoldReport> {
  const [diff, scale] = tf.tidy(() => {
    const a = predictCombined(c, x);
    const b = predict(folded, x);
    const diffs = a.map((t, i) => tf.max(tf.abs(tf.sub(t, b[i]))));
    const scales = a.map((t) => tf.max(tf.abs(t)));
    return [tf.max(tf.stack(diffs)), tf.max(tf.stack(scales))];
  });
  const maxAbsDiff = (await diff.data())[0];
  const logitScale = (await scale.data())[0];
  diff.dispose();
  scale.dispose();
  return {
    maxAbsDiff,
    logitScale,
    paramCount: { source: countParams(c.source), combined: countCombined(c), folded: countParams(folded) },
  };
}

/**
 * Builds a stock tfjs LayersModel equal to a plain network with no BN (a folded network, or any
 * network after `foldBatchNorm`). Input [N, 28, 28, 1] in [0, 1]; one output per head in task
 * order, the logits, each named `head_<taskId>`. Layers: conv2d/dense with bias, ReLU as the layer
 * activation, max-pooling, flatten, global average pooling, `add` for residual blocks, and a 1x1
 * depthwise conv with bias for an affine unit — all stock classes that `tf.loadLayersModel` reads.
 */
export function toLayersModel(net: Net): tf.LayersModel {
  for (const u of net.units.values()) {
    if (u.bn) throw new Error(`unit '${u.spec.id}' still has BatchNorm: fold it first`);
  }
  const input = tf.input({ shape: [28, 28, 1], name: 'image' });
  const weights: { layer: tf.layers.Layer; values: tf.Tensor[] }[] = [];
  const unitLayer = (unitId: string, x: tf.SymbolicTensor, relu: boolean): tf.SymbolicTensor => {
    const u = net.units.get(unitId);
    if (!u || !u.kernel) throw new Error(`unit '${unitId}' has no weights`);
    const activation = relu ? 'relu' : 'linear';
    const bias = u.bias ?? tf.zeros([u.spec.outChannels]);
    let layer: tf.layers.Layer;
    let kernel: tf.Tensor = u.kernel;
    switch (u.spec.op) {
      case 'conv':
        layer = tf.layers.conv2d({ filters: u.spec.outChannels, kernelSize: u.spec.kernelSize ?? 3, strides: u.spec.stride ?? 1, padding: 'same', useBias: true, activation, name: unitId });
        break;
      case 'dense':
        layer = tf.layers.dense({ units: u.spec.outChannels, useBias: true, activation, name: unitId });
        break;
      case 'affine':
        layer = tf.layers.depthwiseConv2d({ kernelSize: 1, depthMultiplier: 1, useBias: true, activation, name: unitId });
        kernel = tf.reshape(u.kernel, [1, 1, u.spec.outChannels, 1]);
        break;
    }
    const out = layer.apply(x) as tf.SymbolicTensor;
    weights.push({ layer, values: [kernel, bias] });
    return out;
  };
  let h: tf.SymbolicTensor = input;
  let poolCount = 0;
  for (const node of net.topology) {
    switch (node.type) {
      case 'unit':
        h = unitLayer(node.unit, h, node.relu);
        break;
      case 'maxpool':
        h = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'valid', name: `pool${++poolCount}` }).apply(h) as tf.SymbolicTensor;
        break;
      case 'flatten':
        h = tf.layers.flatten({ name: 'flatten' }).apply(h) as tf.SymbolicTensor;
        break;
      case 'globalAvgPool':
        h = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(h) as tf.SymbolicTensor;
        break;
      case 'preactBlock':
        h = blockLayers(node, h, unitLayer);
        break;
    }
  }
  const outputs = net.heads.map((head) => {
    const layer = tf.layers.dense({ units: head.numClasses, useBias: true, name: `head_${head.taskId}` });
    const out = layer.apply(h) as tf.SymbolicTensor;
    weights.push({ layer, values: [head.kernel, head.bias] });
    return out;
  });
  const model = tf.model({ inputs: input, outputs, name: `rescl_${net.kind}` });
  for (const { layer, values } of weights) layer.setWeights(values);
  return model;
}

function blockLayers(
  node: Extract<TopologyNode, { type: 'preactBlock' }>, x: tf.SymbolicTensor,
  unitLayer: (id: string, x: tf.SymbolicTensor, relu: boolean) => tf.SymbolicTensor,
): tf.SymbolicTensor {
  const u = unitLayer(node.preBN, x, true);
  const inner = unitLayer(node.conv1, u, true);
  const body = unitLayer(node.conv2, inner, false);
  const shortcut = node.shortcut ? unitLayer(node.shortcut, u, false) : x;
  return tf.layers.add({ name: `${node.conv2}_add` }).apply([body, shortcut]) as tf.SymbolicTensor;
}

/** The artifacts of a LayersModel (model.json topology + weight specs + one weights buffer). */
export async function modelArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let captured: tf.io.ModelArtifacts | null = null;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    captured = artifacts;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  if (!captured) throw new Error('model.save produced no artifacts');
  return captured;
}

/** The `model.json` a file server would serve next to `weightsFileName` (tfjs layers-model format). */
export function modelJson(artifacts: tf.io.ModelArtifacts, weightsFileName = 'weights.bin'): object {
  return {
    format: 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [weightsFileName], weights: artifacts.weightSpecs }],
  };
}
