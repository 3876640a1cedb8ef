/**
 * The method registry, runnable half: one entry per method with its descriptive data (`METHOD_INFO`
 * in names.ts: label, knob, stages, colour key, help) and what it does with each new task k ≥ 1 of
 * a chain. `Experiment.runMethod` walks the chain and owns every network handed back; a step owns
 * only what it makes until it returns it (`trainOwned` frees it when a stage throws or is stopped).
 */
import * as tf from '@tensorflow/tfjs';
import type { ResidentDataset } from './batches';
import { summarizeAlphas } from './alphaSummary';
import { buildCombined, disposeCombinedAlphas, readAlphas } from './combine';
import { checkFold, foldCombined, type FoldReport } from './fold';
import { METHOD_INFO, type MethodInfo, type MethodName } from './names';
import { disposeNet, type Net } from './nets';
import { deserializeNet, serializeNet } from './serialize';
import {
  computeFisher, ewcParameters, trainCombined, trainEwc, trainFeatureExtraction, trainLwf,
  type EwcMemory, type FinetuneOptions, type StageOptions, type StageProgress,
} from './train';
import type { CombinedState, ExperimentEvent, ExperimentOptions, MethodRunOptions, RunResult } from './experiment';

/** What a method step may use of its experiment (implemented by `Experiment`). */
export interface ChainContext {
  readonly options: ExperimentOptions;
  readonly taskCount: number;
  trainData(k: number): ResidentDataset;
  testData(k: number): ResidentDataset;
  taskId(k: number): string;
  /** stage options of `method` on task k, scaled to its budget */
  stageOptionsFor(method: MethodName, k: number): StageOptions;
  finetuneOptionsFor(method: MethodName, k: number): FinetuneOptions;
  /** a copy of `prev` with a new head for task k (the caller owns it) */
  withNewHead(prev: Net, k: number): Net;
  /** fine-tunes a copy of `prev` on task k (cached for task 1 from the source when the budget allows) */
  finetuned(prev: Net, k: number, method: MethodName, knob: number | null): AsyncGenerator<ExperimentEvent, Net, undefined>;
  /** the Fisher memory of the source on task 0 (owned by the experiment) */
  sourceFisher(): EwcMemory;
  /** the cached fine-tuned net of task 1 (the teacher of a warm-started combine stage) */
  readonly firstFinetunedNet: Net | null;
}

/** Per-run state a chain's steps share; `cleanup` runs once the chain ends, however it ends. */
export interface ChainRun {
  method: MethodName;
  knob: number | null;
  runOptions: MethodRunOptions;
  folds: FoldReport[];
  alphas?: RunResult['alphas'];
  combinedState?: CombinedState;
  cleanup: (() => void)[];
}

/** One new task of a chain: makes the next network from `prev` (never disposes `prev`). */
export type MethodStep = (ctx: ChainContext, run: ChainRun, prev: Net, k: number) => AsyncGenerator<ExperimentEvent, Net, undefined>;

/** A registry entry: a chain method (a step per new task) or the joint oracle (one run over all tasks). */
export type MethodEntry = MethodInfo & ({ kind: 'chain'; step: MethodStep } | { kind: 'joint' });

/**
 * Runs `stage` on `net`, yielding its progress as events, and returns `net`; frees `net` if the stage
 * throws or the consumer stops (the one place a half-trained network is disposed).
 */
export async function* trainOwned(
  net: Net, stage: AsyncGenerator<StageProgress, void, undefined>,
  event: (progress: StageProgress) => ExperimentEvent,
): AsyncGenerator<ExperimentEvent, Net, undefined> {
  let trained = false;
  try {
    for await (const progress of stage) yield event(progress);
    trained = true;
  } finally {
    if (!trained) disposeNet(net);
  }
  return net;
}

const progressOf = (run: ChainRun, k: number) => (progress: StageProgress): ExperimentEvent =>
  ({ type: 'progress', method: run.method, knob: run.knob, taskIndex: k, progress });

const ft: MethodStep = (ctx, run, prev, k) => ctx.finetuned(prev, k, run.method, run.knob);

const fe: MethodStep = (ctx, run, prev, k) => {
  const net = ctx.withNewHead(prev, k);
  return trainOwned(net, trainFeatureExtraction(net, ctx.taskId(k), ctx.trainData(k), ctx.stageOptionsFor(run.method, k)), progressOf(run, k));
};

const lwf: MethodStep = (ctx, run, prev, k) => {
  const net = ctx.withNewHead(prev, k);
  const options = { ...ctx.finetuneOptionsFor(run.method, k), lambdaOld: run.knob ?? 1 };
  return trainOwned(net, trainLwf(net, ctx.taskId(k), ctx.trainData(k), options), progressOf(run, k));
};

/** EWC's memory per run: the source's Fisher for task 1, then the online sum (freed by the run's cleanup). */
const ewcMemories = new WeakMap<ChainRun, EwcMemory>();

const ewc: MethodStep = async function* (ctx, run, prev, k) {
  let memory = ewcMemories.get(run);
  if (!memory) {
    memory = ctx.sourceFisher();
    ewcMemories.set(run, memory);
    const shared = memory;
    run.cleanup.push(() => {
      const last = ewcMemories.get(run);
      if (last && last !== shared) tf.dispose([...last.fisher, ...last.anchors]);
      ewcMemories.delete(run);
    });
  }
  const net = ctx.withNewHead(prev, k);
  const options = { ...ctx.finetuneOptionsFor(run.method, k), lambdaEwc: run.knob ?? 100 };
  yield* trainOwned(net, trainEwc(net, ctx.taskId(k), ctx.trainData(k), memory, options), progressOf(run, k));
  if (k + 1 < ctx.taskCount) {
    const fresh = computeFisher(net, ctx.taskId(k), ctx.trainData(k), ctx.options.fisherSamples, ctx.options.seed + k, ctx.options.fisher);
    const grown = accumulateFisher(memory, net, fresh);
    if (memory !== ctx.sourceFisher()) tf.dispose([...memory.fisher, ...memory.anchors]);
    ewcMemories.set(run, grown);
  }
  return net;
};

const rescl: MethodStep = async function* (ctx, run, prev, k) {
  const finetuned = yield* ctx.finetuned(prev, k, run.method, run.knob);
  const warm = k === 1 && run.runOptions.warmStart ? run.runOptions.warmStart : null;
  let target = finetuned;
  if (warm) {
    target = deserializeNet(warm.target);
    disposeNet(finetuned);
  }
  const combined = buildCombined(prev, target);
  if (warm) {
    tf.tidy(() => {
      for (const a of warm.alphas) {
        combined.alphaSource.get(a.unit)?.assign(tf.tensor1d(a.alphaSource));
        combined.alphaTarget.get(a.unit)?.assign(tf.tensor1d(a.alphaTarget));
      }
    });
  }
  // the teacher Ŷ_t is the fine-tuned net_t even when θ_t is warm-started
  const teacher = warm && ctx.firstFinetunedNet ? ctx.firstFinetunedNet : undefined;
  try {
    yield { type: 'combined', method: 'rescl', knob: run.knob, taskIndex: k, combined };
    for await (const progress of trainCombined(combined, ctx.trainData(k), {
      ...ctx.stageOptionsFor(run.method, k), lambda: run.runOptions.lambda ?? run.knob ?? 0,
      alphaLearningRate: ctx.options.alphaLearningRate, targetBatchNorm: ctx.options.targetBatchNorm,
      decay: ctx.options.combineDecay, teacher,
    })) {
      const event = progressOf(run, k)(progress);
      // α trajectories: one small read-back on the reports that read the loss anyway
      if (progress.lossFresh && event.type === 'progress') event.alphas = await summarizeAlphas(combined, progress.step);
      yield event;
    }
    const next = foldCombined(combined);
    const test = ctx.testData(k);
    const x = tf.slice(test.x, 0, Math.min(ctx.options.foldCheckSamples, test.count)) as tf.Tensor4D;
    try {
      run.folds.push(await checkFold(combined, next, x));
      run.alphas = await readAlphas(combined);
      if (k === 1) run.combinedState = { alphas: run.alphas, target: await serializeNet(target) };
    } catch (e) {
      disposeNet(next);
      throw e;
    } finally {
      x.dispose();
    }
    return next;
  } finally {
    disposeCombinedAlphas(combined);
    disposeNet(target);
  }
};

/** The registry: every method's description and behaviour. */
export const METHODS: Record<MethodName, MethodEntry> = {
  rescl: { ...METHOD_INFO.rescl, kind: 'chain', step: rescl },
  lwf: { ...METHOD_INFO.lwf, kind: 'chain', step: lwf },
  ewc: { ...METHOD_INFO.ewc, kind: 'chain', step: ewc },
  ft: { ...METHOD_INFO.ft, kind: 'chain', step: ft },
  fe: { ...METHOD_INFO.fe, kind: 'chain', step: fe },
  joint: { ...METHOD_INFO.joint, kind: 'joint' },
};

/**
 * Online EWC (γ = 1): F ← F_old (zero-padded to the new parameter list) + F_new, anchors ← θ now.
 * `fresh` is aligned with `ewcParameters(net)` and is consumed.
 */
export function accumulateFisher(old: EwcMemory, net: Net, fresh: tf.Tensor[]): EwcMemory {
  const params = ewcParameters(net);
  const fisher = fresh.map((f, i) => {
    if (i >= old.fisher.length) return f;
    const sum = tf.add(f, old.fisher[i]);
    f.dispose();
    return sum;
  });
  return { fisher, anchors: params.map((v) => v.clone()) };
}
