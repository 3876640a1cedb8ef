/**
 * Checks an imported layers-model topology against its weight specs before tfjs builds anything.
 *
 * Why: tfjs builds a model's layers (allocating every weight at the size the topology asks for)
 * before it compares them with the file's weights, and does not free them when the comparison or
 * a later layer fails. A file whose topology says `units: 2e9` would allocate gigabytes; one whose
 * Add joins two different shapes would leak the layers built before it. So the shapes are inferred
 * here, layer by layer, for the layer types the lab's export uses (and a few shape-preserving
 * ones), and every weight the model would create must be in the specs with exactly that shape.
 * After this check, building allocates no more than the (size-limited) weights the file holds.
 *
 * Shapes are per example, without the batch dimension: the input is [28, 28, 1].
 */
import { IMAGE_SIDE } from '../data/types';

/** One imported example: a grey image, channels last. */
export const IMAGE_SHAPE: readonly number[] = [IMAGE_SIDE, IMAGE_SIDE, 1];

/** A problem with the file, said for people (the caller wraps it in its BadModelFile). */
export class TopologyError extends Error {}

type Shape = number[];
type Config = Record<string, unknown>;

/** Layers in one file (the lab's exports have < 40). */
const MAX_LAYERS = 1000;

const ACTIVATIONS = new Set(['linear', 'relu', 'relu6', 'elu', 'selu', 'sigmoid', 'hard_sigmoid', 'tanh', 'softmax', 'softplus', 'softsign', 'swish', 'mish']);

const SUPPORTED = [
  'InputLayer', 'Dense', 'Conv2D', 'DepthwiseConv2D', 'MaxPooling2D', 'AveragePooling2D', 'Flatten',
  'GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'Add', 'Activation', 'ReLU', 'Dropout',
] as const;
type Supported = (typeof SUPPORTED)[number];

const fmt = (s: readonly unknown[]): string => JSON.stringify(s);

function positiveInt(v: unknown, what: string, max = 1 << 20): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw new TopologyError(`${what} must be a whole number from 1 to ${max} (got ${(JSON.stringify(v) ?? String(v)).slice(0, 60)})`);
  return v;
}

/** A 2-D size (kernel, stride, pool): an int or a pair of ints. */
function pair(v: unknown, what: string, fallback?: [number, number]): [number, number] {
  if (v === undefined || v === null) {
    if (fallback) return fallback;
    throw new TopologyError(`${what} is missing`);
  }
  if (typeof v === 'number') return [positiveInt(v, what, 1024), positiveInt(v, what, 1024)];
  if (!Array.isArray(v) || v.length !== 2) throw new TopologyError(`${what} must be a pair of whole numbers (got ${JSON.stringify(v)})`);
  return [positiveInt(v[0], what, 1024), positiveInt(v[1], what, 1024)];
}

/** Output size of a 2-D window along one axis. */
function windowOut(size: number, kernel: number, stride: number, padding: string, what: string): number {
  const out = padding === 'same' ? Math.ceil(size / stride) : Math.floor((size - kernel) / stride) + 1;
  if (out < 1) throw new TopologyError(`${what}: a ${kernel}-wide window does not fit an input of ${size}`);
  return out;
}

function checkSpatial(cfg: Config, what: string): { padding: string } {
  const padding = cfg.padding ?? 'valid';
  if (padding !== 'same' && padding !== 'valid') throw new TopologyError(`${what}: padding must be "same" or "valid" (got ${JSON.stringify(padding)})`);
  if (cfg.data_format !== undefined && cfg.data_format !== null && cfg.data_format !== 'channels_last') {
    throw new TopologyError(`${what}: only data_format "channels_last" is supported (got ${JSON.stringify(cfg.data_format)})`);
  }
  if (cfg.dilation_rate !== undefined && cfg.dilation_rate !== null) {
    const [a, b] = pair(cfg.dilation_rate, `${what} dilation_rate`);
    if (a !== 1 || b !== 1) throw new TopologyError(`${what}: dilated convolutions are not supported`);
  }
  return { padding };
}

function checkActivation(cfg: Config, what: string): void {
  const a = cfg.activation;
  if (a !== undefined && a !== null && !(typeof a === 'string' && ACTIVATIONS.has(a))) {
    throw new TopologyError(`${what}: unknown activation ${JSON.stringify(a)}`);
  }
}

function useBias(cfg: Config, what: string): boolean {
  if (cfg.use_bias === undefined) return true;
  if (typeof cfg.use_bias !== 'boolean') throw new TopologyError(`${what}: use_bias must be true or false`);
  return cfg.use_bias;
}

function rank3(shape: Shape, what: string): [number, number, number] {
  if (shape.length !== 3) throw new TopologyError(`${what} needs an image input [height, width, channels] (got ${fmt(shape)})`);
  return shape as [number, number, number];
}

/** Output shape and weights (name suffix → shape) of one layer. */
function layerShapes(kind: Supported, cfg: Config, inputs: Shape[], what: string): { out: Shape; weights: Record<string, Shape> } {
  if (kind !== 'Add' && inputs.length !== 1) throw new TopologyError(`${what} must have exactly one input (got ${inputs.length})`);
  const x = inputs[0];
  switch (kind) {
    case 'InputLayer':
      throw new TopologyError(`${what}: an InputLayer cannot have inputs`);
    case 'Dense': {
      checkActivation(cfg, what);
      const units = positiveInt(cfg.units, `${what} units`);
      if (x.length < 1) throw new TopologyError(`${what} needs a non-scalar input`);
      const weights: Record<string, Shape> = { kernel: [x[x.length - 1], units] };
      if (useBias(cfg, what)) weights.bias = [units];
      return { out: [...x.slice(0, -1), units], weights };
    }
    case 'Conv2D':
    case 'DepthwiseConv2D': {
      checkActivation(cfg, what);
      const [h, w, c] = rank3(x, what);
      const [kh, kw] = pair(cfg.kernel_size, `${what} kernel_size`);
      const [sh, sw] = pair(cfg.strides, `${what} strides`, [1, 1]);
      const { padding } = checkSpatial(cfg, what);
      const oh = windowOut(h, kh, sh, padding, what);
      const ow = windowOut(w, kw, sw, padding, what);
      const bias = useBias(cfg, what);
      if (kind === 'Conv2D') {
        const filters = positiveInt(cfg.filters, `${what} filters`);
        return { out: [oh, ow, filters], weights: { kernel: [kh, kw, c, filters], ...(bias ? { bias: [filters] } : {}) } };
      }
      const dm = positiveInt(cfg.depth_multiplier ?? 1, `${what} depth_multiplier`, 1024);
      return { out: [oh, ow, c * dm], weights: { depthwise_kernel: [kh, kw, c, dm], ...(bias ? { bias: [c * dm] } : {}) } };
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      const [h, w, c] = rank3(x, what);
      const [ph, pw] = pair(cfg.pool_size, `${what} pool_size`, [2, 2]);
      const [sh, sw] = pair(cfg.strides, `${what} strides`, [ph, pw]);
      const { padding } = checkSpatial(cfg, what);
      return { out: [windowOut(h, ph, sh, padding, what), windowOut(w, pw, sw, padding, what), c], weights: {} };
    }
    case 'Flatten':
      return { out: [x.reduce((a, b) => a * b, 1)], weights: {} };
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D':
      checkSpatial(cfg, what);
      return { out: [rank3(x, what)[2]], weights: {} };
    case 'Add':
      if (inputs.length < 2) throw new TopologyError(`${what} must join at least two inputs`);
      for (const s of inputs) if (fmt(s) !== fmt(x)) throw new TopologyError(`${what} joins inputs of different shapes ${inputs.map(fmt).join(' and ')}`);
      return { out: x, weights: {} };
    case 'Activation':
      if (typeof cfg.activation !== 'string') throw new TopologyError(`${what}: activation must be named`);
      checkActivation(cfg, what);
      return { out: x, weights: {} };
    case 'ReLU':
    case 'Dropout':
      return { out: x, weights: {} };
  }
}

/** Initializers, regularizers and constraints are null or a serialized `{ class_name, config }`. */
function checkSerialized(cfg: Config, what: string): void {
  for (const [key, v] of Object.entries(cfg)) {
    if (!/_(initializer|regularizer|constraint)$/.test(key) || v === null || v === undefined) continue;
    const o = v as { class_name?: unknown; config?: unknown };
    if (typeof v !== 'object' || Array.isArray(v) || typeof o.class_name !== 'string' || (o.config !== undefined && (typeof o.config !== 'object' || o.config === null))) {
      throw new TopologyError(`${what}: ${key} must be null or { class_name, config } (got ${JSON.stringify(v).slice(0, 60)})`);
    }
  }
}

/** `[[name, 0, 0, {...}], ...]` of a layer's one inbound node, as names. */
function inboundNames(layer: Config, what: string): string[] {
  const nodes = layer.inbound_nodes;
  if (!Array.isArray(nodes) || nodes.length !== 1 || !Array.isArray(nodes[0]) || nodes[0].length === 0) {
    throw new TopologyError(`${what} must be called exactly once, on known layers (inbound_nodes)`);
  }
  return (nodes[0] as unknown[]).map((ref) => {
    if (!Array.isArray(ref) || typeof ref[0] !== 'string' || ref[1] !== 0 || ref[2] !== 0) throw new TopologyError(`${what} has a malformed input reference ${JSON.stringify(ref)}`);
    return ref[0];
  });
}

function layerRefs(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || v.length === 0) throw new TopologyError(`${what} must be a non-empty list`);
  return v.map((ref) => {
    if (!Array.isArray(ref) || typeof ref[0] !== 'string' || ref[1] !== 0 || ref[2] !== 0) throw new TopologyError(`${what} has a malformed reference ${JSON.stringify(ref)}`);
    return ref[0];
  });
}

/**
 * Infers every layer's shape and checks the weight specs against what the layers would create:
 * each expected weight present with its exact shape, no weight that no layer uses.
 * Throws TopologyError with a sentence for people.
 */
export function checkTopology(topology: { config?: { layers?: unknown; input_layers?: unknown; output_layers?: unknown } }, specs: { name: string; shape: number[] }[]): void {
  const layers = topology.config?.layers as unknown[];
  if (layers.length === 0 || layers.length > MAX_LAYERS) throw new TopologyError(`the model must have 1 to ${MAX_LAYERS} layers (has ${layers.length})`);
  const shapes = new Map<string, Shape>();
  const expected = new Map<string, Shape>();
  for (const [i, raw] of layers.entries()) {
    const layer = (raw ?? {}) as Config;
    const cfg = layer.config as Config | undefined;
    const name = cfg?.name;
    const kind = layer.class_name;
    if (!cfg || typeof cfg !== 'object' || typeof name !== 'string' || name === '') throw new TopologyError(`layer ${i + 1} has no config with a name`);
    // tfjs wires layers by the top-level name: without it, building loops forever (found by the import fuzz)
    if (layer.name !== name) throw new TopologyError(`layer ${i + 1} ("${name.slice(0, 60)}") must carry the same name at its top level and in its config`);
    const what = `layer "${name.slice(0, 60)}" (${String(kind).slice(0, 40)})`;
    if (typeof kind !== 'string' || !(SUPPORTED as readonly string[]).includes(kind)) {
      throw new TopologyError(`layer "${name}" has type ${JSON.stringify(kind)}; the importer reads ${SUPPORTED.join(', ')}`);
    }
    if (shapes.has(name)) throw new TopologyError(`two layers are named "${name}"`);
    // the lab's layers compute in float32; tfjs would cast the feed to anything else, or fail inside
    if (cfg.dtype !== undefined && cfg.dtype !== null && cfg.dtype !== 'float32') throw new TopologyError(`${what}: dtype must be float32 (got ${JSON.stringify(cfg.dtype)?.slice(0, 40)})`);
    if (kind === 'InputLayer') {
      if (fmt(cfg.batch_input_shape as unknown[] ?? []) !== fmt([null, ...IMAGE_SHAPE])) {
        throw new TopologyError(`the input must be [null, ${IMAGE_SHAPE.join(', ')}] images (got ${JSON.stringify(cfg.batch_input_shape)})`);
      }
      if (Array.isArray(layer.inbound_nodes) && layer.inbound_nodes.length > 0) throw new TopologyError(`${what} cannot have inputs`);
      shapes.set(name, [...IMAGE_SHAPE]);
      continue;
    }
    checkSerialized(cfg, what);
    const inputs = inboundNames(layer, what).map((n) => {
      const s = shapes.get(n);
      if (!s) throw new TopologyError(`${what} takes its input from "${n}", which is not an earlier layer`);
      return s;
    });
    const { out, weights } = layerShapes(kind as Supported, cfg, inputs, what);
    shapes.set(name, out);
    for (const [suffix, shape] of Object.entries(weights)) expected.set(`${name}/${suffix}`, shape);
  }
  const inputs = layerRefs(topology.config?.input_layers, 'input_layers');
  if (inputs.length !== 1 || layers.every((l) => (l as Config)?.class_name !== 'InputLayer' || ((l as Config).config as Config).name !== inputs[0])) {
    throw new TopologyError('input_layers must name the one InputLayer');
  }
  const outputs = layerRefs(topology.config?.output_layers, 'output_layers');
  for (const out of outputs) {
    if (!shapes.has(out)) throw new TopologyError(`output_layers names ${JSON.stringify(out).slice(0, 60)}, which is not a layer`);
  }
  if (new Set(outputs).size !== outputs.length) throw new TopologyError('output_layers names a layer twice');
  // Every layer must lead to an output: tfjs builds only those, and would refuse the others' weights
  // only after building (see the file's comment).
  const used = new Set<string>(outputs);
  for (const raw of [...layers].reverse()) {
    const layer = raw as Config;
    const name = (layer.config as Config).name as string;
    if (!used.has(name)) throw new TopologyError(`layer "${name}" leads to no output of the model`);
    if (layer.class_name !== 'InputLayer') for (const n of inboundNames(layer, name)) used.add(n);
  }
  const seen = new Set<string>();
  for (const spec of specs) {
    const want = expected.get(spec.name);
    if (!want) throw new TopologyError(`weight ${spec.name} belongs to no layer of the model`);
    if (seen.has(spec.name)) throw new TopologyError(`weight ${spec.name} is listed twice`);
    seen.add(spec.name);
    if (fmt(want) !== fmt(spec.shape)) throw new TopologyError(`weight ${spec.name} has shape ${fmt(spec.shape)}; its layer needs ${fmt(want)}`);
  }
  for (const name of expected.keys()) if (!seen.has(name)) throw new TopologyError(`weight ${name} is missing`);
}
