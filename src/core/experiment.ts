/**
 * An experiment: one task sequence, one source network shared by every method, and each method run
 * as a chain over the remaining tasks, giving its accuracy matrix. Used by the worker engine and by
 * `npm run repro` alike, so both measure the same thing.
 *
 * Fairness (docs/METHOD.md, "Baselines"): every method starts from the same trained source network, sees
 * the same data, epochs, batch size and learning rate per stage, and is scored on each task's full
 * test split with that task's head. ResCL spends two stages per new task (fine-tune, then combine);
 * under `budget: 'equal'` (the default) FT, FE, LwF and EWC get as many steps per new task (twice a
 * stage's epochs), under `budget: 'stage'` one stage's. Joint training is not a chain (see `runJoint`).
 */
import * as tf from '@tensorflow/tfjs';
import { disposeResident, makeResident, type ResidentDataset } from './batches';
import { type CombinedNet, type TargetBatchNormMode } from './combine';
import type { AlphaSummary } from './alphaSummary';
import { type SerializedNet } from './serialize';
import { type FoldReport } from './fold';
import { tradeoffOf, type AccuracyMatrix, type TradeoffPoint } from './metrics';
import { METHOD_INFO, type Budget, type MethodName, type NetKind } from './names';
import { METHODS, trainOwned, type ChainContext, type ChainRun } from './methods';
import type { InitScheme } from './init';
import { addHead, buildNet, cloneNet, countParams, disposeNet, type Net } from './nets';
import { TRAINING_DEFAULTS } from './trainingDefaults';
import {
  computeFisher, evaluateAccuracy, ewcParameters, plainForward, trainFinetune, trainJoint, trainSource, DEFAULT_STAGE_OPTIONS,
  type BaselineBatchNorm, type CombineDecay, type EwcMemory, type FinetuneOptions, type FisherKind, type StageOptions, type StageProgress,
} from './train';
import type { TaskData } from './types';

export type { AlphaSummary } from './alphaSummary';
export { BUDGETS, METHOD_KNOBS, METHOD_NAMES, type Budget, type MethodName } from './names';

/** Options of an experiment (defaults: `DEFAULT_EXPERIMENT_OPTIONS`). */
export interface ExperimentOptions {
  net: NetKind;
  /** channel multiplier of the network (1 = the standard architecture; tests use smaller) */
  width: number;
  seed: number;
  stage: StageOptions;
  /** new-head warm-up steps before fine-tuning / LwF / EWC train the whole net */
  headWarmupSteps: number;
  /** ResCL: Adam learning rate of the α (lab choice: 10x the weights') */
  alphaLearningRate: number;
  /** ResCL: BN_t mode in the combined stage (lab choice: inference) */
  targetBatchNorm: TargetBatchNormMode;
  /** EWC: examples used for the diagonal Fisher */
  fisherSamples: number;
  /** EWC: the true Fisher (expectation under the model's predictions; default) or the empirical one */
  fisher: FisherKind;
  /** fold check: test inputs compared between net_c and the folded net */
  foldCheckSamples: number;
  /**
   * Target-task steps of the baselines (FT, FE, LwF, EWC): 'equal' (default) gives each as many steps
   * per new task as ResCL's fine-tune + combine (2 stages); 'stage' gives one stage's worth.
   */
  budget: Budget;
  /** Joint training: warm-started from the source with ResCL's remaining budget (default) or from scratch for one stage */
  jointInit: 'source' | 'scratch';
  /**
   * Weight initialisation of every new trunk and head (init.ts): 'he' (default; He-normal trunk,
   * Glorot head, zero biases) or 'torch-default' (PyTorch's nn.Linear/nn.Conv2d default). Decides
   * how much fine-tuning forgets (docs/CROSSCHECK.md, "The fine-tuning gap").
   */
  init: InitScheme;
  /**
   * BN statistics of the FT, LwF and EWC baselines while they train the trunk (train.ts
   * `BaselineBatchNorm`): 'batch' (default; the source's statistics drift) or 'frozen-source' (kept,
   * as ResCL keeps BN_s). ResCL's own fine-tune (stage 2) always uses 'batch'.
   */
  baselineBatchNorm: BaselineBatchNorm;
  /**
   * ResCL: which θ_t the combine stage's weight decay covers (train.ts `CombineDecay`): 'kernels'
   * (default; kernels only, as every stage) or 'all' (also BN γ_t, β_t and biases b_t, so α_t's L1
   * cannot be dodged by them growing; docs/METHOD.md, "Decay in the combine stage").
   */
  combineDecay: CombineDecay;
}

export const DEFAULT_EXPERIMENT_OPTIONS: ExperimentOptions = {
  net: 'mlp',
  width: 1,
  seed: TRAINING_DEFAULTS.seed,
  stage: DEFAULT_STAGE_OPTIONS,
  headWarmupSteps: TRAINING_DEFAULTS.headWarmupSteps,
  alphaLearningRate: TRAINING_DEFAULTS.alphaLearningRate,
  targetBatchNorm: 'inference',
  fisherSamples: TRAINING_DEFAULTS.fisherSamples,
  fisher: 'true',
  foldCheckSamples: 256,
  budget: 'equal',
  jointInit: 'source',
  init: 'he',
  baselineBatchNorm: 'batch',
  combineDecay: 'kernels',
};

/** What a finished method run reports. `net` is its final network (the caller owns it). */
export interface RunResult {
  method: MethodName;
  knob: number | null;
  /** the budget the run was trained under (`ExperimentOptions.budget`) */
  budget: Budget;
  accMatrix: AccuracyMatrix;
  /** final accuracy per task id */
  accByTask: Record<string, number>;
  tradeoff: TradeoffPoint;
  /** scalars of the deployed network */
  paramCount: number;
  /** ResCL only: fold checks of every combined stage (one per new task) */
  fold?: FoldReport[];
  /** ResCL only: final α values per unit (last combined stage) */
  alphas?: { unit: string; alphaSource: Float32Array; alphaTarget: Float32Array }[];
  /** ResCL only: α and θ_t at the end of the first combined stage (task 1), to warm-start another λ */
  combinedState?: CombinedState;
  net: Net;
}

/**
 * A finished combined stage of task 1 as plain data: α per unit and the trained θ_t (net_t with its
 * new head). Another ResCL run can start its combined stage from it (`MethodRunOptions.warmStart`).
 */
export interface CombinedState {
  alphas: { unit: string; alphaSource: Float32Array; alphaTarget: Float32Array }[];
  target: SerializedNet;
}

/** Per-run options of `runMethod`. */
export interface MethodRunOptions {
  /** ResCL: λ read at every step of every combined stage (live λ); default: the knob */
  lambda?: () => number;
  /**
   * ResCL: start the combined stage of task 1 from this state (α and θ_t) instead of α = ∓0.5,
   * θ_t = θ*_t. The teacher Ŷ_t still comes from the fine-tuned net_t.
   */
  warmStart?: CombinedState;
}

/** Events of an experiment: stage progress, and results as they finish. */
export type ExperimentEvent =
  | {
    type: 'progress'; method: MethodName | 'source'; knob: number | null; taskIndex: number; progress: StageProgress;
    /** ResCL's combine stage only, on reports that read the loss: mean |α| per unit (α trajectories) */
    alphas?: AlphaSummary[];
  }
  | { type: 'combined'; method: 'rescl'; knob: number | null; taskIndex: number; combined: CombinedNet }
  | { type: 'result'; result: RunResult };

/**
 * Holds a task sequence resident on the backend and the shared source network.
 * Call `dispose()` when done.
 */
export class Experiment implements ChainContext {
  readonly options: ExperimentOptions;
  readonly tasks: TaskData[];
  private train: ResidentDataset[] = [];
  private test: ResidentDataset[] = [];
  private source: Net | null = null;
  private sourceAccuracy = NaN;
  /** fine-tuned net_t of task 1 from the shared source, shared by FT and every ResCL λ */
  private firstFinetuned: Net | null = null;
  private firstFisher: EwcMemory | null = null;

  constructor(tasks: TaskData[], options: Partial<ExperimentOptions> = {}) {
    if (tasks.length < 2) throw new Error('an experiment needs at least two tasks');
    this.options = { ...DEFAULT_EXPERIMENT_OPTIONS, ...options, stage: { ...DEFAULT_STAGE_OPTIONS, ...options.stage } };
    this.tasks = tasks;
    this.train = tasks.map((t) => makeResident(t.train));
    this.test = tasks.map((t) => makeResident(t.test));
  }

  /** The trained source network (after `trainSourceNet`). */
  get sourceNet(): Net {
    if (!this.source) throw new Error('the source network is not trained yet');
    return this.source;
  }

  /** The cached fine-tuned net_t of task 1 (null until a FT / ResCL run made it). Owned by the experiment. */
  get firstFinetunedNet(): Net | null {
    return this.firstFinetuned;
  }

  /**
   * Adopts an already trained source network (e.g. restored from storage) instead of training one;
   * takes ownership of `net`. Its test accuracy on task 0 is measured here.
   */
  async adoptSource(net: Net): Promise<void> {
    if (this.source) disposeNet(this.source);
    this.source = net;
    this.sourceAccuracy = await evaluateAccuracy(plainForward(net), 0, this.test[0]);
  }

  /** Adopts a fine-tuned net_t of task 1 made from the current source (takes ownership). */
  adoptFirstFinetuned(net: Net): void {
    if (this.firstFinetuned) disposeNet(this.firstFinetuned);
    this.firstFinetuned = net;
  }

  /** Test accuracy of the source network on the first task. */
  get sourceTestAccuracy(): number {
    return this.sourceAccuracy;
  }

  /** Stage 1: trains the shared source network on task 0 (once; later calls yield nothing). */
  async *trainSourceNet(): AsyncGenerator<ExperimentEvent, void, undefined> {
    if (this.source) return;
    const net = buildNet(this.options.net, this.options.seed, this.options.width, this.options.init);
    addHead(net, this.tasks[0].id, this.tasks[0].train.numClasses, this.options.seed, this.options.init);
    yield* trainOwned(net, trainSource(net, this.tasks[0].id, this.train[0], this.stageOptions(0)),
      (progress) => ({ type: 'progress', method: 'source', knob: null, taskIndex: 0, progress }));
    this.sourceAccuracy = await evaluateAccuracy(plainForward(net), 0, this.test[0]);
    this.source = net;
  }

  get taskCount(): number {
    return this.tasks.length;
  }

  trainData(k: number): ResidentDataset {
    return this.train[k];
  }

  testData(k: number): ResidentDataset {
    return this.test[k];
  }

  taskId(k: number): string {
    return this.tasks[k].id;
  }

  /** Stage options for task k (seeds differ per task so batch orders do not repeat). */
  private stageOptions(taskIndex: number): StageOptions {
    return { ...this.options.stage, seed: this.options.seed * 100 + taskIndex };
  }

  /**
   * How many stages' worth of steps `method` gets per new task: under `budget: 'equal'` a baseline
   * gets as many as ResCL spends (its fine-tune + combine stages), else one.
   */
  budgetFactor(method: MethodName): number {
    return this.options.budget === 'equal' && METHOD_INFO[method].equalBudget ? METHOD_INFO.rescl.stages.length : 1;
  }

  /** Stage options of `method` on task k: epochs (and `maxSteps`, if set) scaled by its budget factor. */
  stageOptionsFor(method: MethodName, k: number): StageOptions {
    return scaled(this.stageOptions(k), this.budgetFactor(method));
  }

  finetuneOptionsFor(method: MethodName, k: number): FinetuneOptions {
    const baseline = method === 'ft' || method === 'lwf' || method === 'ewc';
    return {
      ...this.stageOptionsFor(method, k), headWarmupSteps: this.options.headWarmupSteps,
      batchNorm: baseline ? this.options.baselineBatchNorm : 'batch',
    };
  }

  /**
   * FWT's reference S_k: a network of the same architecture trained on task k alone from random
   * init with ResCL's per-task budget (fine-tune + combine steps: twice a stage's epochs), scored
   * on task k's test split. Yields the stage's progress, returns the accuracy, frees the network.
   */
  async *scratchAccuracy(k: number): AsyncGenerator<StageProgress, number, undefined> {
    const seed = this.options.seed + 1000 * k;
    const net = buildNet(this.options.net, seed, this.options.width, this.options.init);
    addHead(net, this.tasks[k].id, this.tasks[k].train.numClasses, seed, this.options.init);
    const options = scaled(this.stageOptions(k), METHOD_INFO.rescl.stages.length);
    try {
      yield* trainSource(net, this.tasks[k].id, this.train[k], options);
      return await evaluateAccuracy(plainForward(net), 0, this.test[k]);
    } finally {
      disposeNet(net);
    }
  }

  /** Test accuracies of a plain network on tasks 0..k with heads 0..k. */
  async evaluateRow(net: Net, k: number): Promise<number[]> {
    const row: number[] = [];
    const forward = plainForward(net);
    for (let j = 0; j <= k; j++) row.push(await evaluateAccuracy(forward, j, this.test[j]));
    return row;
  }

  /** A copy of `prev` with a new head for task k (the caller owns it). */
  withNewHead(prev: Net, k: number): Net {
    const net = cloneNet(prev);
    addHead(net, this.tasks[k].id, this.tasks[k].train.numClasses, this.options.seed + k, this.options.init);
    return net;
  }

  /**
   * Fine-tunes a copy of `prev` on task k (stage 2 / the FT baseline) with `method`'s budget. One
   * stage's fine-tune of task 1 from the source is cached and shared (by ResCL's every λ, and by FT
   * under `budget: 'stage'`).
   */
  async *finetuned(prev: Net, k: number, method: MethodName, knob: number | null): AsyncGenerator<ExperimentEvent, Net, undefined> {
    const options = this.finetuneOptionsFor(method, k);
    // shared only between fine-tunes that train alike (ResCL's stage 2 always uses batch statistics)
    const cacheable = k === 1 && prev === this.source && this.budgetFactor(method) === 1 && options.batchNorm === 'batch';
    if (cacheable && this.firstFinetuned) return cloneNet(this.firstFinetuned);
    const net = this.withNewHead(prev, k);
    yield* trainOwned(net, trainFinetune(net, this.tasks[k].id, this.train[k], options),
      (progress) => ({ type: 'progress', method, knob, taskIndex: k, progress }));
    if (cacheable) this.firstFinetuned = cloneNet(net);
    return net;
  }

  /**
   * Runs one method (with its knob) over tasks 1..T−1 from the shared source, yielding progress
   * and finally a `result` event. Trains the source first if needed. What a method does per task is
   * its registry entry (`METHODS`); this loop owns every network the steps hand back.
   */
  async *runMethod(method: MethodName, knob: number | null = null, runOptions: MethodRunOptions = {}): AsyncGenerator<ExperimentEvent, void, undefined> {
    yield* this.trainSourceNet();
    const entry = METHODS[method];
    if (entry.kind === 'joint') {
      yield* this.runJoint();
      return;
    }
    const source = this.sourceNet;
    const accMatrix: AccuracyMatrix = [[this.sourceAccuracy]];
    const run: ChainRun = { method, knob, runOptions, folds: [], cleanup: [] };
    let prev = source;
    const release = (net: Net) => { if (net !== source) disposeNet(net); };
    try {
      for (let k = 1; k < this.tasks.length; k++) {
        const next = yield* entry.step(this, run, prev, k);
        release(prev);
        prev = next;
        accMatrix.push(await this.evaluateRow(prev, k));
      }
    } finally {
      // on a throw or a consumer's return(): free what the chain holds unless it finished
      if (accMatrix.length < this.tasks.length) release(prev);
      for (const f of run.cleanup) f();
    }
    const result = this.resultOf(method, knob, accMatrix, prev, run.folds.length ? run.folds : undefined, run.alphas);
    if (run.combinedState) result.combinedState = run.combinedState;
    yield { type: 'result', result };
  }

  private resultOf(method: MethodName, knob: number | null, accMatrix: AccuracyMatrix, net: Net, fold?: FoldReport[], alphas?: RunResult['alphas']): RunResult {
    const finalRow = accMatrix[accMatrix.length - 1];
    const accByTask: Record<string, number> = {};
    this.tasks.forEach((t, j) => { accByTask[t.id] = finalRow[j]; });
    return { method, knob, budget: this.options.budget, accMatrix, accByTask, tradeoff: tradeoffOf(method, knob, finalRow), paramCount: countParams(net), fold, alphas, net };
  }

  /** Diagonal Fisher of the source network on task 0 (computed once, at "the end of task 0"). */
  sourceFisher(): EwcMemory {
    if (!this.firstFisher) {
      const source = this.sourceNet;
      const fisher = computeFisher(source, this.tasks[0].id, this.train[0], this.options.fisherSamples, this.options.seed, this.options.fisher);
      this.firstFisher = { fisher, anchors: ewcParameters(source).map((v) => v.clone()) };
    }
    return this.firstFisher;
  }

  /**
   * Joint training on all tasks at once (the reference that should bound the continual methods);
   * its matrix has only the final row filled. `jointInit: 'source'` (default) starts from the shared
   * source network and trains as many epochs as ResCL spends after it; 'scratch' is the old
   * protocol (random init, one stage), which does not bound (RESULTS.md).
   */
  private async *runJoint(): AsyncGenerator<ExperimentEvent, void, undefined> {
    const warm = this.options.jointInit === 'source';
    const net = warm ? cloneNet(this.sourceNet) : buildNet(this.options.net, this.options.seed, this.options.width, this.options.init);
    this.tasks.forEach((t, k) => { if (!(warm && k === 0)) addHead(net, t.id, t.train.numClasses, this.options.seed + k, this.options.init); });
    // warm: ResCL's steps after the source, (T − 1) new tasks × (fine-tune + combine); scratch: one stage
    const stages = warm ? (this.tasks.length - 1) * METHOD_INFO.rescl.stages.length : 1;
    yield* trainOwned(net, trainJoint(net, this.tasks.map((t) => t.id), this.train, scaled(this.stageOptions(0), stages)),
      (progress) => ({ type: 'progress', method: 'joint', knob: null, taskIndex: this.tasks.length - 1, progress }));
    const row = await this.evaluateRow(net, this.tasks.length - 1);
    const accMatrix: AccuracyMatrix = this.tasks.map((_, i) => (i === this.tasks.length - 1 ? row : []));
    yield { type: 'result', result: this.resultOf('joint', null, accMatrix, net) };
  }

  /** Frees every tensor the experiment holds (resident data, source network, caches). */
  dispose(): void {
    for (const d of [...this.train, ...this.test]) disposeResident(d);
    this.train = [];
    this.test = [];
    if (this.source) disposeNet(this.source);
    if (this.firstFinetuned) disposeNet(this.firstFinetuned);
    if (this.firstFisher) disposeMemory(this.firstFisher);
    this.source = this.firstFinetuned = null;
    this.firstFisher = null;
  }
}

function disposeMemory(m: EwcMemory): void {
  tf.dispose([...m.fisher, ...m.anchors]);
}

/** `f` stages' worth of steps: epochs (and `maxSteps`, if set) times f. */
function scaled(base: StageOptions, f: number): StageOptions {
  if (f === 1) return base;
  return { ...base, epochs: base.epochs * f, ...(base.maxSteps !== undefined ? { maxSteps: base.maxSteps * f } : {}) };
}
