/**
 * The benchmark itself, shared by `npm run bench` (Node) and the `?bench` page (its worker): times
 * training steps of the core's own stage loops — `trainSource` for 'plain', `trainCombined` for
 * 'combined' — on a fixed synthetic batch pattern, on whatever backend is active. The caller picks
 * the backend and registers (or not) src/kernels first.
 *
 * Per case it reports ms per step (median and min; every timed step reads its loss back, so a
 * step's time includes the GPU finishing it), samples/s, the tfjs kernels of one profiled step,
 * and on WebGPU the GPU compute dispatches and GPUQueue.submit calls per step. Numbers compare only within one run.
 */
import * as tf from '@tensorflow/tfjs';
import { disposeResident, makeResident, type ResidentDataset } from '../core/batches';
import { buildCombined, disposeCombinedAlphas } from '../core/combine';
import { addHead, buildNet, cloneNet, disposeNet } from '../core/nets';
import { trainCombined, trainSource, type StageOptions, type StageProgress } from '../core/train';
import { countDeviceWork, deviceWorkPerStep, fastKernelsActive, registerFastKernels, restoreStockKernels } from '../kernels';
import type { BenchCaseLine, BenchCheckLine, BenchLine, BenchOptions, BenchStage, KernelTime } from './options';

type StageFactory = (options: StageOptions) => AsyncGenerator<StageProgress, void, undefined>;

interface Timing {
  msPerStep: number[];
  kernelsPerStep: number;
  submissionsPerStep: number | null;
  dispatchesPerStep: number | null;
  /** dispatches per step by program name (webgpu only) */
  dispatchesByProgram: Record<string, number> | null;
  top: KernelTime[];
  /** the stage's pipeline warm-up (StageProgress.compileMs), if one ran */
  compileMs: number | null;
}

/**
 * The stage options of every benchmark run: seeded, `maxSteps` steps, and reportIntervalMs 0 so
 * every step reads its loss back (the synchronisation point of a step).
 */
function stageOptions(batch: number, maxSteps: number): StageOptions {
  return { epochs: 1000, batchSize: batch, learningRate: 1e-3, weightDecay: 1e-4, seed: 1, reportIntervalMs: 0, maxSteps };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Sums tf.profile's kernel records by kernel name, slowest first. */
function kernelTimes(kernels: { name: string; kernelTimeMs: unknown; inputShapes: number[][] }[]): KernelTime[] {
  const byName = new Map<string, KernelTime>();
  for (const k of kernels) {
    const entry = byName.get(k.name) ?? { kernel: k.name, ms: 0, calls: 0, slowestMs: 0, slowestShapes: '' };
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    entry.ms += ms;
    entry.calls += 1;
    if (ms >= entry.slowestMs) {
      entry.slowestMs = +ms.toFixed(2);
      entry.slowestShapes = k.inputShapes.map((shape) => `[${shape.join(',')}]`).join(' ');
    }
    byName.set(k.name, entry);
  }
  return [...byName.values()].sort((a, b) => b.ms - a.ms).map((t) => ({ ...t, ms: +t.ms.toFixed(2) }));
}

async function timeSteps(makeStage: StageFactory, batch: number, warmup: number, steps: number): Promise<Timing> {
  const stage = makeStage(stageOptions(batch, warmup + steps + 1));
  const counter = countDeviceWork();
  try {
    let compileMs: number | null = null;
    const next = async () => {
      const r = await stage.next();
      if (!r.done && r.value.compileMs !== undefined) compileMs = r.value.compileMs;
    };
    for (let i = 0; i < warmup; i++) await next();
    const before = counter?.read() ?? null;
    const msPerStep: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      await next();
      msPerStep.push(performance.now() - t0);
    }
    const after = counter?.read() ?? null;
    const perStep = before && after ? deviceWorkPerStep(before, after, steps) : null;
    const profile = await tf.profile(async () => { await stage.next(); });
    return {
      msPerStep, kernelsPerStep: profile.kernels.length, submissionsPerStep: perStep?.submissions ?? null,
      dispatchesPerStep: perStep?.dispatches ?? null, dispatchesByProgram: perStep?.byProgram ?? null, top: kernelTimes(profile.kernels), compileMs,
    };
  } finally {
    counter?.restore();
    await stage.return();
  }
}

/** The synthetic training set: 4 batches of a fixed byte pattern, labels 0..9 in turn. */
function syntheticData(batch: number): ResidentDataset {
  const count = batch * 4;
  const images = new Uint8Array(count * 784).map((_, i) => (i * 2654435761) >>> 24);
  const labels = new Uint8Array(count).map((_, i) => i % 10);
  return makeResident({ images, labels, count, numClasses: 10 });
}

/** Builds the case's seeded network(s) and hands `measure` the stage factory; frees them after. */
async function withStage<T>(
  options: BenchOptions, net: BenchCaseLine['net'], stage: BenchStage, data: ResidentDataset,
  measure: (makeStage: StageFactory) => Promise<T>,
): Promise<T> {
  const source = buildNet(net, 1, options.width);
  addHead(source, 'a', 10, 1);
  try {
    if (stage === 'plain') {
      return await measure((o) => trainSource(source, 'a', data, o));
    }
    const target = cloneNet(source);
    addHead(target, 'b', 10, 2);
    const combined = buildCombined(source, target);
    try {
      return await measure((o) => trainCombined(combined, data, { ...o, lambda: 1e-3, alphaLearningRate: 1e-2, targetBatchNorm: 'inference' }));
    } finally {
      disposeCombinedAlphas(combined);
      disposeNet(target);
    }
  } finally {
    disposeNet(source);
  }
}

export const CHECK_STEPS = 20;

/** Losses of the first CHECK_STEPS steps of a stage (every step reads its loss). */
async function stageLosses(makeStage: StageFactory, batch: number): Promise<number[]> {
  const losses: number[] = [];
  for await (const progress of makeStage(stageOptions(batch, CHECK_STEPS))) if (progress.lossFresh) losses.push(progress.loss);
  return losses;
}

/**
 * `--check`: trains the case's seeded networks CHECK_STEPS steps with tfjs's own kernels, then again
 * with src/kernels', and compares the losses. Leaves src/kernels registered.
 */
async function checkLosses(options: BenchOptions, net: BenchCaseLine['net'], stage: BenchStage, data: ResidentDataset): Promise<BenchCheckLine> {
  const backend = tf.getBackend();
  restoreStockKernels(backend);
  const stockLosses = await withStage(options, net, stage, data, (make) => stageLosses(make, options.batch));
  registerFastKernels(backend);
  const fastLosses = await withStage(options, net, stage, data, (make) => stageLosses(make, options.batch));
  let maxRelDiff = stockLosses.length === fastLosses.length ? 0 : Infinity;
  stockLosses.forEach((s, i) => { maxRelDiff = Math.max(maxRelDiff, Math.abs(fastLosses[i] - s) / Math.max(1, Math.abs(s))); });
  if (Number.isNaN(maxRelDiff) || stockLosses.some((l) => !Number.isFinite(l))) maxRelDiff = Infinity;
  return {
    name: `${net}-${stage}-losses`, backend, where: 'node', stockLosses, fastLosses,
    maxRelDiff: Number.isFinite(maxRelDiff) ? +maxRelDiff.toExponential(2) : maxRelDiff, ok: maxRelDiff <= 1e-3,
  };
}

/**
 * Runs every (net, stage) case of `options` on the active backend, yielding one line per case and
 * then, per net with both stages, the combined/plain ratio. With `check` (and src/kernels active),
 * each case is preceded by a `-losses` line comparing training losses with tfjs's kernels and ours.
 * `shouldStop` is checked between cases.
 */
export async function* runBench(
  options: BenchOptions,
  where: 'node' | 'browser',
  shouldStop: () => boolean = () => false,
): AsyncGenerator<BenchLine, void, undefined> {
  const backend = tf.getBackend();
  // 'fast' only when src/kernels really replaced something on this backend (none exist for webgl).
  const kernels = !options.stock && fastKernelsActive(backend) ? 'fast' : 'stock';
  const data = syntheticData(options.batch);
  const medians = new Map<string, number>();
  try {
    for (const net of options.nets) {
      for (const stage of options.stages) {
        if (shouldStop()) return;
        if (options.check && kernels === 'fast') yield { ...(await checkLosses(options, net, stage, data)), where };
        const timing = await withStage(options, net, stage, data, (make) => timeSteps(make, options.batch, options.warmup, options.steps));
        const ms = median(timing.msPerStep);
        medians.set(`${net}/${stage}`, ms);
        const line: BenchCaseLine = {
          name: `${net}-${stage}`, backend, where, net, stage, batch: options.batch, width: options.width,
          msPerStepMedian: +ms.toFixed(2), msPerStepMin: +Math.min(...timing.msPerStep).toFixed(2),
          samplesPerSec: Math.round(options.batch / (ms / 1000)), kernelsPerStep: timing.kernelsPerStep,
          deviceSubmissionsPerStep: timing.submissionsPerStep, gpuDispatchesPerStep: timing.dispatchesPerStep, kernels,
        };
        if (timing.dispatchesByProgram) line.dispatchesByProgram = timing.dispatchesByProgram;
        if (timing.compileMs !== null) line.compileMs = +timing.compileMs.toFixed(1);
        if (options.top > 0) line.topKernels = timing.top.slice(0, options.top);
        yield line;
      }
      const plain = medians.get(`${net}/plain`);
      const combined = medians.get(`${net}/combined`);
      if (plain && combined) yield { name: `${net}-combined-vs-plain`, backend, where, ratio: +(combined / plain).toFixed(2), target: 2.2 };
    }
  } finally {
    disposeResident(data);
  }
}
