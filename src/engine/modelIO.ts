/**
 * Export of a folded network (tfjs model.json + weights.bin, or one self-contained 'rescl-folded'
 * JSON file) and the checks an imported model must pass before it is evaluated.
 */
import * as tf from '@tensorflow/tfjs';
import { modelArtifacts, modelJson, toLayersModel } from '../core/fold';
import type { ComparisonSettings } from '../core/names';
import type { Net } from '../core/nets';
import { checkTopology, IMAGE_SHAPE, TopologyError } from './modelShapes';

/** Largest imported model accepted (weights bytes, and JSON text length). */
export const IMPORT_MAX_BYTES = 50 * 1024 * 1024;

/** The single-file export format. */
export interface FoldedModelFile {
  format: 'rescl-folded';
  version: 1;
  modelTopology: object;
  weightSpecs: tf.io.WeightsManifestEntry[];
  /** base64 of the concatenated little-endian float32 weights */
  weightData: string;
  tasks: { id: string; name: string; classNames: string[] }[];
  provenance: {
    scenario: string; net: string; seed: number; lambda: number; accByTask: Record<string, number>; foldMaxAbsDiff: number | null; paramCount: number;
    /** the run's comparison settings (core/names.ts `COMPARISON_CHOICES`); absent in files exported before they existed */
    comparison?: ComparisonSettings;
  };
}

/** A value from a file, shown in a message: JSON, at most 60 characters. */
export function quote(v: unknown): string {
  return (JSON.stringify(v) ?? String(v)).slice(0, 60);
}

/** A problem with an imported file (answered with a 'bad-file' error). */
export class BadModelFile extends Error {}

/** Concatenates tfjs weight data (one buffer or several) into one ArrayBuffer. */
export function concatWeightData(data: ArrayBuffer | ArrayBuffer[] | undefined): ArrayBuffer {
  if (!data) return new ArrayBuffer(0);
  if (data instanceof ArrayBuffer) return data;
  const total = data.reduce((n, b) => n + b.byteLength, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const b of data) { out.set(new Uint8Array(b), at); at += b.byteLength; }
  return out.buffer;
}

export function toBase64(buf: ArrayBuffer): string {
  const bytes = new Uint8Array(buf);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(text: string): ArrayBuffer {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out.buffer;
}

/** Topology, weight specs and weights of a plain (folded) network as a stock LayersModel. */
export async function layersArtifacts(net: Net): Promise<{ artifacts: tf.io.ModelArtifacts; weights: ArrayBuffer }> {
  const model = toLayersModel(net);
  try {
    const artifacts = await modelArtifacts(model);
    return { artifacts, weights: concatWeightData(artifacts.weightData as ArrayBuffer | ArrayBuffer[] | undefined) };
  } finally {
    model.dispose();
  }
}

/** The two files of the 'tfjs' export: model.json (layers-model format) and weights.bin. */
export function tfjsFiles(artifacts: tf.io.ModelArtifacts, weights: ArrayBuffer): { name: string; mimeType: string; data: ArrayBuffer }[] {
  const json = new TextEncoder().encode(JSON.stringify(modelJson(artifacts, 'weights.bin')));
  return [
    { name: 'model.json', mimeType: 'application/json', data: json.buffer as ArrayBuffer },
    { name: 'weights.bin', mimeType: 'application/octet-stream', data: weights },
  ];
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

/** A task of a 'rescl-folded' file: what its head was trained on. */
export interface FileTask { id: string; classCount: number }

/** An imported model, checked: what tfjs loads, and (single-file form) the tasks it was made for. */
export interface ImportedModel {
  artifacts: tf.io.ModelArtifacts;
  /** the 'rescl-folded' file's task list; null for a tfjs model.json (which has none) */
  tasks: FileTask[] | null;
}

/** The task list of a 'rescl-folded' file: a list of { id, name, classNames }. */
function fileTasks(fileName: string, tasks: unknown): FileTask[] {
  const bad = (): never => { throw new BadModelFile(`${fileName}: tasks must be a list of { id, name, classNames } (one per head)`); };
  if (!Array.isArray(tasks) || tasks.length === 0) return bad();
  return tasks.map((t: unknown) => {
    const task = t as { id?: unknown; classNames?: unknown } | null;
    if (!task || typeof task.id !== 'string' || !Array.isArray(task.classNames) || !task.classNames.every((c) => typeof c === 'string')) return bad();
    return { id: task.id, classCount: task.classNames.length };
  });
}

/**
 * Reads an imported model (either export form) and checks it without building anything:
 * format/version, a tfjs layers-model topology whose inferred weight shapes are exactly the file's
 * float32 weight specs (modelShapes.ts), sizes that add up to the weights' byte length, every weight
 * finite, size limits, and the single-file form's task list. Throws `BadModelFile` with a sentence
 * for people.
 */
export function parseImportedModel(fileName: string, json: string, weights?: ArrayBuffer): ImportedModel {
  if (json.length > IMPORT_MAX_BYTES * 1.4) throw new BadModelFile(`${fileName} is larger than the ${IMPORT_MAX_BYTES / 2 ** 20} MB limit`);
  let obj: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(json);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    obj = parsed as Record<string, unknown>;
  } catch (e) {
    throw new BadModelFile(`${fileName} is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  let topology: unknown;
  let specs: unknown;
  let data: ArrayBuffer;
  let tasks: FileTask[] | null = null;
  if (obj.format === 'rescl-folded') {
    if (obj.version !== 1) throw new BadModelFile(`${fileName}: rescl-folded version ${quote(obj.version)} is not supported (expected 1)`);
    tasks = fileTasks(fileName, obj.tasks);
    if (typeof obj.weightData !== 'string') throw new BadModelFile(`${fileName}: weightData must be a base64 string`);
    try { data = fromBase64(obj.weightData); } catch { throw new BadModelFile(`${fileName}: weightData is not valid base64`); }
    topology = obj.modelTopology;
    specs = obj.weightSpecs;
  } else if (obj.modelTopology !== undefined && Array.isArray(obj.weightsManifest)) {
    if (obj.format !== undefined && obj.format !== 'layers-model') throw new BadModelFile(`${fileName}: format ${quote(obj.format)} is not a tfjs layers model`);
    if (!weights) throw new BadModelFile(`${fileName} is a tfjs model.json: choose its weights.bin too`);
    data = weights;
    topology = obj.modelTopology;
    specs = (obj.weightsManifest as { weights?: unknown }[]).flatMap((g) => (Array.isArray(g?.weights) ? g.weights : [null]));
  } else {
    throw new BadModelFile(`${fileName} is neither a rescl-folded file nor a tfjs model.json (format ${quote(obj.format ?? null)})`);
  }
  const top = topology as { class_name?: unknown; config?: { layers?: unknown } } | undefined;
  if (!top || typeof top !== 'object' || (top.class_name !== 'Model' && top.class_name !== 'Functional') || !Array.isArray(top.config?.layers)) {
    throw new BadModelFile(`${fileName}: modelTopology is not a tfjs layers model (class_name Model with a list of layers)`);
  }
  if (data.byteLength > IMPORT_MAX_BYTES) throw new BadModelFile(`${fileName}: the weights are larger than the ${IMPORT_MAX_BYTES / 2 ** 20} MB limit`);
  if (!Array.isArray(specs)) throw new BadModelFile(`${fileName}: weightSpecs must be a list`);
  let expected = 0;
  for (const spec of specs as { name?: unknown; shape?: unknown; dtype?: unknown }[]) {
    if (!spec || typeof spec.name !== 'string' || !Array.isArray(spec.shape) || !spec.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new BadModelFile(`${fileName}: a weight spec lacks a name or an integer shape`);
    }
    if (spec.dtype !== 'float32') throw new BadModelFile(`${fileName}: weight ${spec.name} has dtype ${quote(spec.dtype)}; only float32 is accepted`);
    if ((spec as { quantization?: unknown }).quantization !== undefined) throw new BadModelFile(`${fileName}: weight ${spec.name} is quantized; only plain float32 weights are accepted`);
    expected += (spec.shape as number[]).reduce((a, b) => a * b, 1) * DTYPE_BYTES.float32;
  }
  if (expected !== data.byteLength) {
    throw new BadModelFile(`${fileName}: the weight specs describe ${expected} bytes but the weights hold ${data.byteLength}`);
  }
  try {
    checkTopology(top as Parameters<typeof checkTopology>[0], specs as { name: string; shape: number[] }[]);
  } catch (e) {
    if (e instanceof TopologyError) throw new BadModelFile(`${fileName}: ${e.message}`);
    throw e;
  }
  const floats = new Float32Array(data, 0, data.byteLength / 4);
  for (let i = 0; i < floats.length; i++) {
    if (!Number.isFinite(floats[i])) throw new BadModelFile(`${fileName}: weight value ${i} is not a finite number`);
  }
  return { artifacts: { modelTopology: top as object, weightSpecs: specs as tf.io.WeightsManifestEntry[], weightData: data }, tasks };
}

/**
 * The topology with every initializer replaced by Zeros: the file's weights overwrite them at once,
 * so drawing random initial values (megabytes of them) would be wasted (tfjs's loadLayersModel does
 * the same when it has the weights). checkTopology has already checked the initializers' form.
 */
function zeroInitialized(topology: unknown): unknown {
  const copy = structuredClone(topology) as { config: { layers: { config: Record<string, unknown> }[] } };
  for (const layer of copy.config.layers) {
    for (const key of Object.keys(layer.config)) {
      if (key.endsWith('_initializer') && layer.config[key] !== null) layer.config[key] = { class_name: 'Zeros', config: {} };
    }
  }
  return copy;
}

/**
 * Builds the imported model and checks it fits the loaded scenario: input [null, 28, 28, 1], one
 * output per task with that task's class count. Caller disposes the model.
 */
export async function loadCheckedModel(fileName: string, artifacts: tf.io.ModelArtifacts, classCounts: number[]): Promise<tf.LayersModel> {
  // Built in two steps so that the model can be disposed when its weights do not fit
  // (tf.loadLayersModel keeps the variables it built when the weights fail). checkTopology made
  // sure the build allocates no more than the file's own weights.
  const reason = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 200);
  let model: tf.LayersModel;
  try {
    model = await tf.models.modelFromJSON({ modelTopology: zeroInitialized(artifacts.modelTopology) as tf.io.ModelJSON['modelTopology'] });
  } catch (e) {
    throw new BadModelFile(`${fileName}: tfjs cannot build this model (${reason(e)})`);
  }
  const named = tf.io.decodeWeights(artifacts.weightData as ArrayBuffer, artifacts.weightSpecs ?? []);
  try {
    model.loadWeights(named, true);
  } catch (e) {
    model.dispose();
    throw new BadModelFile(`${fileName}: the weights do not fit the model (${reason(e)})`);
  } finally {
    tf.dispose(Object.values(named));
  }
  const fail = (msg: string): never => { model.dispose(); throw new BadModelFile(`${fileName}: ${msg}`); };
  const input = model.inputs[0]?.shape ?? [];
  if (model.inputs.length !== 1 || JSON.stringify(input) !== JSON.stringify([null, ...IMAGE_SHAPE])) {
    fail(`the input must be one [null, ${IMAGE_SHAPE.join(', ')}] image tensor (got ${JSON.stringify(model.inputs.map((i) => i.shape))})`);
  }
  if (model.outputs.length !== classCounts.length) fail(`the model has ${model.outputs.length} outputs; the loaded scenario has ${classCounts.length} tasks`);
  model.outputs.forEach((o, i) => {
    if (o.shape.length !== 2 || o.shape[1] !== classCounts[i]) fail(`output ${i + 1} has shape ${JSON.stringify(o.shape)}; task ${i + 1} has ${classCounts[i]} classes`);
  });
  return model;
}
