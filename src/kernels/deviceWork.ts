/**
 * Counts the GPU work tfjs-webgpu does: GPUQueue.submit calls and compute dispatches (tfjs's
 * `recordAndSubmit`: one per GPU program run; Identity, Reshape and same-dtype Cast share buffers
 * and dispatch nothing), the dispatches also per program (the program's class name, e.g.
 * `MatMulPackedProgram`, or our own shader key). Used by the bench (`src/bench/cases.ts`) and meant
 * for the lab's backend card (dispatches per step, live): read the counter before and after a step.
 */
import * as tf from '@tensorflow/tfjs';

/** Cumulative counts since the counter started. */
export interface DeviceWork {
  submissions: number;
  dispatches: number;
  /** dispatches per program name */
  byProgram: Record<string, number>;
}

/** A running counter; `restore` puts back exactly the methods it wrapped. */
export interface DeviceWorkCounter {
  read(): DeviceWork;
  restore(): void;
}

type Method = (this: unknown, ...args: unknown[]) => unknown;

/** Replaces `target[key]` by `wrap(current method)` as an own property; returns the undo. */
function shadow(target: Record<string, unknown>, key: string, wrap: (original: Method) => Method): () => void {
  const own = Object.getOwnPropertyDescriptor(target, key);
  const original = target[key] as Method;
  target[key] = wrap(original);
  return () => {
    if (own) Object.defineProperty(target, key, own);
    else delete target[key];
  };
}

/** A program's name for the breakdown: ours carry a `resclName`, tfjs's their class name. */
function programName(program: unknown): string {
  const p = program as { resclName?: string; constructor?: { name?: string }; shaderKey?: string };
  return p.resclName ?? p.constructor?.name ?? String(p.shaderKey).split('_')[0];
}

/**
 * Starts counting on the active backend; null unless it is webgpu. Counting stays on until
 * `restore()` (cheap: a counter increment per dispatch).
 */
export function countDeviceWork(): DeviceWorkCounter | null {
  const backend = tf.backend() as unknown as { device?: GPUDevice; recordAndSubmit?: Method };
  const queue = tf.getBackend() === 'webgpu' ? backend.device?.queue : undefined;
  if (!queue || typeof backend.recordAndSubmit !== 'function') return null;
  const counts: DeviceWork = { submissions: 0, dispatches: 0, byProgram: {} };
  // Shadow the two methods with counting wrappers and put back exactly what was there before
  // (an own property, or nothing: then the prototype's method shows through again).
  const restoreSubmit = shadow(queue as unknown as Record<string, unknown>, 'submit', (original) => function countedSubmit(this: unknown, ...args: unknown[]) {
    counts.submissions += 1;
    return original.apply(this, args);
  });
  const restoreRecord = shadow(backend as unknown as Record<string, unknown>, 'recordAndSubmit', (original) => function countedRecord(this: unknown, ...args: unknown[]) {
    counts.dispatches += 1;
    const name = programName(args[0]);
    counts.byProgram[name] = (counts.byProgram[name] ?? 0) + 1;
    return original.apply(this, args);
  });
  return {
    read: () => ({ ...counts, byProgram: { ...counts.byProgram } }),
    restore: () => { restoreRecord(); restoreSubmit(); },
  };
}

/** Per-step difference of two reads over `steps` steps (by program: only names that ran, most first). */
export function deviceWorkPerStep(before: DeviceWork, after: DeviceWork, steps: number): DeviceWork {
  const per = (a: number, b: number) => +((b - a) / steps).toFixed(1);
  const byProgram: Record<string, number> = {};
  const names = Object.keys(after.byProgram)
    .map((name) => [name, per(before.byProgram[name] ?? 0, after.byProgram[name])] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
  for (const [name, n] of names) byProgram[name] = n;
  return { submissions: per(before.submissions, after.submissions), dispatches: per(before.dispatches, after.dispatches), byProgram };
}
