/**
 * A stage's starting point as plain data, for running the same stage outside the lab
 * (`npm run crosscheck` replays it in PyTorch): the networks' initial weights (`serializeNet`) and
 * the exact batch order `trainingLoop` will use (`batchPlan` with the stage's seed).
 *
 * The JSON form writes every float32 as the shortest decimal of its float64 value, which parses back
 * to the same float32 in JS and in Python, so `traceFromJson(traceToJson(t))` is exact.
 */
import { batchPlan } from './batches';
import type { SerializedNet, SerializedTensor } from './serialize';

/** One stage's start: named networks, the batch order [steps][B] and any settings the replay needs. */
export interface StageTrace {
  format: 'rescl-trace';
  version: 1;
  stage: string;
  /** e.g. { net } for source/fine-tune, { source, target } for combine */
  nets: Record<string, SerializedNet>;
  /** dataset indices of every step's batch, in order: batches[s] has B (or fewer, at an epoch's end) entries */
  batches: Int32Array[];
  /** the stage's numeric settings (learning rates, λs, warm-up steps, ...) */
  settings: Record<string, number | string | boolean>;
  /** other tensors the stage starts from, e.g. EWC's { fisher, anchors } (aligned lists) */
  extra?: Record<string, SerializedTensor[]>;
}

/**
 * The batch order of a stage: the first `steps` batches of `batchPlan(count, batchSize, epochs, seed)`,
 * exactly what `trainingLoop` iterates. Returns copies (Int32Array [B] per step).
 */
export function batchOrder(count: number, batchSize: number, epochs: number, seed: number, steps = Infinity): Int32Array[] {
  const out: Int32Array[] = [];
  for (const { indices } of batchPlan(count, batchSize, epochs, seed)) {
    if (out.length >= steps) break;
    out.push(Int32Array.from(indices));
  }
  return out;
}

function tensorToJson(t: SerializedTensor): { shape: number[]; data: number[] } {
  return { shape: t.shape, data: Array.from(t.data) };
}

function tensorFromJson(t: { shape: number[]; data: number[] }): SerializedTensor {
  return { shape: t.shape, data: Float32Array.from(t.data) };
}

function mapNet(n: SerializedNet, f: (t: never) => unknown): unknown {
  const g = f as (t: unknown) => unknown;
  return {
    ...n,
    units: n.units.map((u) => ({
      spec: u.spec,
      ...(u.kernel ? { kernel: g(u.kernel) } : {}),
      ...(u.bias ? { bias: g(u.bias) } : {}),
      ...(u.bn ? { bn: Object.fromEntries(Object.entries(u.bn).map(([k, v]) => [k, g(v)])) } : {}),
    })),
    heads: n.heads.map((h) => ({ ...h, kernel: g(h.kernel), bias: g(h.bias) })),
  };
}

/** JSON text of a trace (float32 arrays as number lists, batches as int lists). */
export function traceToJson(trace: StageTrace): string {
  return JSON.stringify({
    ...trace,
    nets: Object.fromEntries(Object.entries(trace.nets).map(([k, n]) => [k, mapNet(n, tensorToJson as (t: never) => unknown)])),
    batches: trace.batches.map((b) => Array.from(b)),
    extra: trace.extra && Object.fromEntries(Object.entries(trace.extra).map(([k, ts]) => [k, ts.map(tensorToJson)])),
  });
}

/** Parses `traceToJson`'s text back into a trace; throws when it is not a rescl-trace v1. */
export function traceFromJson(text: string): StageTrace {
  const raw = JSON.parse(text) as Omit<StageTrace, 'batches' | 'extra'> & { batches: number[][]; extra?: Record<string, { shape: number[]; data: number[] }[]> };
  if (raw.format !== 'rescl-trace' || raw.version !== 1) throw new Error('not a rescl-trace v1 record');
  return {
    ...raw,
    nets: Object.fromEntries(Object.entries(raw.nets).map(([k, n]) => [k, mapNet(n, tensorFromJson as (t: never) => unknown) as SerializedNet])),
    batches: raw.batches.map((b) => Int32Array.from(b)),
    extra: raw.extra && Object.fromEntries(Object.entries(raw.extra).map(([k, ts]) => [k, ts.map(tensorFromJson)])),
  };
}
