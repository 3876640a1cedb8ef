/**
 * Seeded mutations of a valid imported model, for the import fuzz (src/engine/importFuzz.test.ts).
 * Both export forms: the single-file 'rescl-folded' JSON (weights inside, base64) and the tfjs
 * model.json + weights.bin pair. Each case says what a correct importer must do with it:
 * 'refused' (the mutation always breaks the model), 'accepted' (it keeps the model valid) or
 * 'either' (it may or may not; then an accepted model must still be consistent).
 */
import { createRng, type Rng } from '../data/rng';

export type Expectation = 'refused' | 'accepted' | 'either';

export interface ImportCase {
  /** which mutations made it, e.g. 'folded:spec-shape+truncate-text' */
  label: string;
  fileName: string;
  json: string;
  weights?: ArrayBuffer;
  expect: Expectation;
}

export type Form = 'folded' | 'tfjs';

/** A valid model in one form: the parsed top-level JSON and the weights bytes. */
export interface BaseModel {
  form: Form;
  /** parsed file (for 'folded' its weightData is ignored: `weights` is encoded into it) */
  obj: Record<string, unknown>;
  weights: Uint8Array;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

/** A case under construction. */
interface Draft {
  obj: Obj;
  weights: Uint8Array;
  /** the weights were changed (re-encode them) */
  weightsChanged: boolean;
  /** the final text is replaced (text-level mutation), after packaging */
  text?: (json: string) => string;
  /** the tfjs weights file is left out */
  noWeightsFile?: boolean;
}

interface Op {
  name: string;
  expect: Expectation;
  forms?: Form[];
  apply: (d: Draft, r: Rng, form: Form) => void;
}

const WRONG_VALUES: Json[] = [null, 0, -1, 1.5, 1e9, 2 ** 53, 1e308, 'x', '', true, [], {}, [null], { a: 1 }];

/** An op found nothing to mutate (e.g. the specs list is gone after an earlier op): it is skipped. */
class NoTarget extends Error {}

function pick<T>(r: Rng, items: readonly T[]): T {
  if (items.length === 0) throw new NoTarget();
  return items[r.int(items.length)];
}

function specsOf(obj: Obj, form: Form): Obj[] {
  const list = form === 'folded' ? obj.weightSpecs : ((obj.weightsManifest as Obj[] | undefined)?.[0]?.weights);
  return Array.isArray(list) ? (list as Obj[]) : [];
}

function layersOf(obj: Obj): Obj[] {
  const top = obj.modelTopology as Obj | undefined;
  const layers = (top?.config as Obj | undefined)?.layers;
  return Array.isArray(layers) ? (layers as Obj[]) : [];
}

function configOf(layer: Obj): Obj {
  return (layer.config ?? {}) as Obj;
}

/** Every (parent, key) in a JSON tree, the weightData string's parent included. */
function nodesOf(root: Json): { parent: Obj | Json[]; key: string | number }[] {
  const out: { parent: Obj | Json[]; key: string | number }[] = [];
  const walk = (v: Json): void => {
    if (Array.isArray(v)) v.forEach((c, i) => { out.push({ parent: v, key: i }); walk(c); });
    else if (v && typeof v === 'object') for (const k of Object.keys(v)) { out.push({ parent: v, key: k }); walk(v[k]); }
  };
  walk(root);
  return out;
}

function floatsOf(d: Draft): Float32Array {
  return new Float32Array(d.weights.buffer, d.weights.byteOffset, Math.floor(d.weights.byteLength / 4));
}

/** A shape that surely differs from `shape` (in size or in form). */
function otherShape(r: Rng, shape: Json): Json {
  if (!Array.isArray(shape) || shape.length === 0) throw new NoTarget();
  const n = shape.length;
  const dims = shape.slice();
  switch (r.int(9)) {
    case 0: dims[r.int(n)] = (dims[r.int(n)] as number) * 2 + 1; return dims;
    case 1: dims[r.int(n)] = 0; return dims.every((x) => x === 0) ? [...dims, 3] : dims;
    case 2: dims[r.int(n)] = pick(r, [1e9, 2 ** 31, 1e15, 2 ** 53]); return dims;
    case 3: dims[r.int(n)] = -1; return dims;
    case 4: dims[r.int(n)] = 1.5; return dims;
    case 5: dims[r.int(n)] = '4'; return dims;
    case 6: return [...dims, 1];
    case 7: return n > 1 ? dims.slice(1) : [...dims, 2];
    default: return pick(r, [null, 'x', 5, {}]);
  }
}

const OPS: Op[] = [
  {
    name: 'truncate-text', expect: 'refused',
    apply: (d, r) => { d.text = (t) => t.slice(0, r.int(t.length)); },
  },
  {
    name: 'garbage-chars', expect: 'either',
    apply: (d, r) => {
      d.text = (t) => {
        let out = t;
        for (let k = 1 + r.int(5); k > 0; k--) {
          const at = r.int(out.length);
          out = out.slice(0, at) + pick(r, ['"', '{', ']', ',', 'x', '0', '\u0000', 'é', '\\']) + out.slice(at + 1);
        }
        return out;
      };
    },
  },
  {
    name: 'drop-node', expect: 'either',
    apply: (d, r) => {
      const nodes = nodesOf(d.obj);
      const { parent, key } = pick(r, nodes);
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
    },
  },
  {
    name: 'wrong-type', expect: 'either',
    apply: (d, r) => {
      const { parent, key } = pick(r, nodesOf(d.obj));
      (parent as Record<string | number, Json>)[key] = structuredClone(pick(r, WRONG_VALUES));
    },
  },
  {
    name: 'weights-truncate', expect: 'refused',
    apply: (d, r) => { d.weights = d.weights.slice(0, r.int(d.weights.byteLength)); d.weightsChanged = true; },
  },
  {
    name: 'weights-extend', expect: 'refused',
    apply: (d, r) => {
      const out = new Uint8Array(d.weights.byteLength + 1 + r.int(16));
      out.set(d.weights);
      d.weights = out;
      d.weightsChanged = true;
    },
  },
  {
    name: 'weights-nonfinite', expect: 'refused',
    apply: (d, r) => {
      d.weights = d.weights.slice();
      const f = floatsOf(d);
      for (let k = 1 + r.int(3); k > 0; k--) f[r.int(f.length)] = pick(r, [Number.NaN, Infinity, -Infinity]);
      d.weightsChanged = true;
    },
  },
  {
    name: 'weights-noise', expect: 'accepted',
    apply: (d, r) => {
      d.weights = d.weights.slice();
      const f = floatsOf(d);
      for (let k = 1 + r.int(50); k > 0; k--) f[r.int(f.length)] += (r.next() - 0.5) * 0.01;
      d.weightsChanged = true;
    },
  },
  {
    name: 'spec-shape', expect: 'refused',
    apply: (d, r, form) => {
      const spec = pick(r, specsOf(d.obj, form));
      spec.shape = otherShape(r, spec.shape);
    },
  },
  {
    name: 'spec-dtype', expect: 'refused',
    apply: (d, r, form) => { pick(r, specsOf(d.obj, form)).dtype = pick(r, ['int32', 'bool', 'float16', 'complex64', 'string', null, 4]); },
  },
  {
    name: 'spec-rename', expect: 'refused',
    apply: (d, r, form) => { pick(r, specsOf(d.obj, form)).name = pick(r, ['x/kernel', '', 'head_0/kernel', 'fc1/kernel_']); },
  },
  {
    name: 'spec-swap-names', expect: 'either',
    apply: (d, r, form) => {
      const specs = specsOf(d.obj, form);
      const a = pick(r, specs);
      const b = pick(r, specs);
      [a.name, b.name] = [b.name, a.name];
    },
  },
  {
    name: 'spec-drop', expect: 'refused',
    apply: (d, r, form) => { const specs = specsOf(d.obj, form); specs.splice(r.int(specs.length), 1); },
  },
  {
    name: 'spec-quantized', expect: 'refused',
    apply: (d, r, form) => { pick(r, specsOf(d.obj, form)).quantization = { dtype: pick(r, ['uint8', 'uint16', 'float16']), scale: 1, min: 0 }; },
  },
  {
    name: 'layer-size', expect: 'refused',
    apply: (d, r) => {
      const sized = layersOf(d.obj).filter((l) => typeof configOf(l).units === 'number' || typeof configOf(l).filters === 'number');
      const cfg = configOf(pick(r, sized));
      const key = cfg.units !== undefined ? 'units' : 'filters';
      const n = cfg[key] as number;
      cfg[key] = pick(r, [1e9, 2 ** 31, 1e15, 0, -3, 2.5, String(n), null, n + 1, n * 2, 2e6]);
    },
  },
  {
    name: 'layer-geometry', expect: 'either',
    apply: (d, r) => {
      const cfg = configOf(pick(r, layersOf(d.obj)));
      const key = pick(r, ['kernel_size', 'strides', 'pool_size', 'padding', 'dilation_rate', 'data_format', 'activation', 'use_bias', 'depth_multiplier']);
      cfg[key] = pick(r, [[1e6, 1e6], [0, 0], [-1, 2], [3], 'causal', 'channels_first', 'softmax', 'bogus', false, 1e9, null]);
    },
  },
  {
    name: 'input-shape', expect: 'refused',
    apply: (d, r) => {
      const input = layersOf(d.obj).find((l) => l.class_name === 'InputLayer');
      if (!input) throw new NoTarget();
      configOf(input).batch_input_shape = pick(r, [[null, 1e9, 28, 1], [null, 28, 28, 3], [null, 784], [null, 28, 28], [1, 28, 28, 1], [null, 2 ** 31, 2 ** 31, 1], 'x']);
    },
  },
  {
    name: 'class-name', expect: 'refused',
    apply: (d, r) => {
      const layers = layersOf(d.obj).filter((l) => l.class_name !== 'InputLayer');
      pick(r, layers).class_name = pick(r, ['Lambda', 'Conv2DTranspose', 'Bogus', 'UpSampling2D', 'Reshape', '', 7]);
    },
  },
  {
    name: 'drop-layer', expect: 'refused',
    apply: (d, r) => { const layers = layersOf(d.obj); layers.splice(r.int(layers.length), 1); },
  },
  {
    name: 'inbound', expect: 'refused',
    apply: (d, r) => {
      const layers = layersOf(d.obj).filter((l) => l.class_name !== 'InputLayer');
      const layer = pick(r, layers);
      layer.inbound_nodes = pick<Json>(r, [[[['nowhere', 0, 0, {}]]], [[[configOf(layer).name ?? 'x', 0, 0, {}]]], [[['fc1', 99, 0, {}]]], 'x', [[[]]]]);
    },
  },
  {
    name: 'outputs', expect: 'refused',
    apply: (d, r) => {
      const cfg = (d.obj.modelTopology as Obj).config as Obj;
      const outs = cfg.output_layers as Json[];
      cfg.output_layers = pick<Json>(r, [outs.slice(1), [...outs, outs[0]], [...outs.slice(1), ['nowhere', 0, 0]], [], 'x']);
    },
  },
  {
    name: 'tasks', expect: 'refused', forms: ['folded'],
    apply: (d, r) => {
      const tasks = d.obj.tasks as Obj[];
      switch (r.int(6)) {
        case 0: tasks.pop(); break;
        case 1: tasks.push({ id: 'extra', name: 'Extra', classNames: ['a', 'b'] }); break;
        case 2: tasks[r.int(tasks.length)].id = 'other-task'; break;
        case 3: (tasks[r.int(tasks.length)].classNames as Json[]).push('extra class'); break;
        case 4: d.obj.tasks = pick(r, [null, 'x', {}, 3]); break;
        default: tasks.reverse(); if (tasks.length < 2 || tasks[0].id === tasks[1].id) tasks.pop(); break;
      }
    },
  },
  {
    name: 'format', expect: 'refused',
    apply: (d, r, form) => {
      if (form === 'folded') {
        if (r.int(2) === 0) d.obj.version = pick(r, [2, '1', null, 0]);
        else d.obj.format = pick(r, ['rescl', 'graph-model', null]);
      } else if (r.int(2) === 0) d.obj.format = pick(r, ['graph-model', 'rescl-folded-ish', 5]);
      else d.noWeightsFile = true;
    },
  },
  {
    name: 'reserialize', expect: 'accepted',
    apply: (d, r) => {
      const keys = Object.keys(d.obj).reverse();
      const reordered: Obj = {};
      for (const k of keys) reordered[k] = d.obj[k];
      d.obj = reordered;
      if (r.int(2) === 0) d.text = (t) => JSON.stringify(JSON.parse(t), null, 2);
    },
  },
  {
    name: 'provenance', expect: 'accepted', forms: ['folded'],
    apply: (d, r) => {
      const p = d.obj.provenance as Obj;
      p.lambda = pick(r, [0, 0.5, 1e-5]);
      p.seed = r.int(100);
    },
  },
];

/** Stands for the folded file's weightData while it is mutated (cloning megabytes per case is slow). */
const WEIGHTS_PLACEHOLDER = '<weights>';

/** The file(s) of a draft. */
function pack(d: Draft, base: BaseModel, baseWeightData: string | null, toBase64: (b: Uint8Array) => string): { json: string; weights?: ArrayBuffer } {
  const obj = d.obj;
  if (base.form === 'folded' && obj.weightData === WEIGHTS_PLACEHOLDER) {
    obj.weightData = d.weightsChanged ? toBase64(d.weights) : (baseWeightData ?? toBase64(d.weights));
  }
  let json = JSON.stringify(obj);
  if (d.text) json = d.text(json);
  if (base.form === 'folded' || d.noWeightsFile) return { json };
  return { json, weights: d.weights.slice().buffer };
}

/**
 * `count` seeded mutations of `base`: mostly one mutation, sometimes two or three ('either' unless
 * all are 'refused'... a refused mutation combined with others still refuses, except text
 * mutations that may cut it away, so combinations are 'either').
 */
export function* importMutations(base: BaseModel, count: number, seed: number, toBase64: (b: Uint8Array) => string): Generator<ImportCase> {
  const r = createRng(seed);
  const ops = OPS.filter((o) => !o.forms || o.forms.includes(base.form));
  const baseWeightData = base.form === 'folded' ? toBase64(base.weights) : null;
  const template = base.form === 'folded' ? { ...base.obj, weightData: WEIGHTS_PLACEHOLDER } : base.obj;
  const fileName = base.form === 'folded' ? 'fuzz.json' : 'model.json';
  for (let i = 0; i < count; i++) {
    const d: Draft = { obj: structuredClone(template) as Obj, weights: base.weights, weightsChanged: false };
    const n = r.next() < 0.8 ? 1 : 2 + r.int(2);
    const used: Op[] = [];
    // An op that finds nothing to mutate (an earlier op of the case removed or retyped its target)
    // is skipped, and the case, perhaps partly changed by it, may go either way.
    let skipped = false;
    for (let k = 0; k < n || used.length === 0; k++) {
      const op = pick(r, ops);
      try {
        op.apply(d, r, base.form);
        used.push(op);
      } catch (e) {
        if (!(e instanceof NoTarget || e instanceof TypeError || e instanceof RangeError)) throw e;
        skipped = true;
      }
    }
    const expect: Expectation = skipped ? 'either' : used.length === 1 ? used[0].expect : used.every((o) => o.expect === 'accepted') ? 'accepted' : 'either';
    yield { label: `${base.form}:${used.map((o) => o.name).join('+')}`, fileName, expect, ...pack(d, base, baseWeightData, toBase64) };
  }
}
