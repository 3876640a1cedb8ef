/**
 * Training stages as async generators that yield progress (docs/ARCHITECTURE.md: training loops yield).
 *
 * (Over 400 lines: one generic loop and the seven stages built on it, plus evaluation and the
 * Fisher; moving the Fisher and evaluation to their own modules is the next cut, issue #11.)
 *
 * Every stage runs the same loop (`trainingLoop`): seeded mini-batches gathered on the backend,
 * gradients of a stage-specific scalar loss with respect to the stage's variables, Adam updates
 * (one optimiser per learning-rate group, `createAdam`: one fused kernel per variable where
 * src/kernels registered it, else tfjs's Adam), BN running-statistics updates, and a progress
 * report at most every `reportIntervalMs` (the only time a value is read back from the device).
 * A consumer stops a stage by calling `return()` on the generator (or breaking out of `for await`):
 * the loop's `finally` frees its optimisers and batch tensors, leaving the networks in their last
 * state.
 */
import * as tf from '@tensorflow/tfjs';
import { batchPlan, gatherBatch, stepsFor, trainingBatch, type ResidentDataset, type TrainingBatch } from './batches';
import {
  alphaVariables, combinedTargetVariables, forwardCombined, newHead, type CombinedNet, type TargetBatchNormMode,
} from './combine';
import { canFoldPenalties, crossEntropy, distillation, distillationSum, ewcPenalty, l1, l1Value, sumAll, weightDecay, weightDecayValue } from './losses';
import {
  applyBatchNormUpdates, applyHead, decayedVariables, headIndex, plainUnitEvaluator, runTopology,
  trunkTrainableVariables, type BatchNormUpdate, type HeadParams, type Net,
} from './nets';
import { createAdam } from './optimizer';
import { warmUpPipelines } from './pipelineWarmUp';

export type StageName = 'source' | 'finetune' | 'combine' | 'fe' | 'lwf' | 'ewc' | 'joint';

/** One progress report of a stage. */
export interface StageProgress {
  stage: StageName;
  /** steps done so far (1-based after the first step) */
  step: number;
  totalSteps: number;
  /** 0-based epoch of the last step */
  epoch: number;
  epochs: number;
  /** training loss of the last step whose loss was read (see `lossFresh`) */
  loss: number;
  /** true when `loss` was read at this step; false on the in-between steps of `yieldEveryStep` */
  lossFresh: boolean;
  /** samples per second since the previous report */
  samplesPerSec: number;
  elapsedMs: number;
  /** estimated time to the end of the stage */
  etaMs: number;
  /** 'head-warmup' while only the new head trains (fine-tuning, LwF) */
  phase: 'head-warmup' | 'main';
  /** true on the stage's last report */
  done: boolean;
  /**
   * ms the pipeline warm-up took before the first step (core/pipelineWarmUp.ts: every program of a
   * step compiled in parallel); only on the first step's report, and only where a backend warmed up
   */
  compileMs?: number;
}

/** Options shared by every stage. */
export interface StageOptions {
  epochs: number;
  batchSize: number;
  /** Adam learning rate of the weights */
  learningRate: number;
  /** λ_dec of the weight-decay term (λ_dec/2)‖θ‖² on kernels */
  weightDecay: number;
  /** seeds the batch order */
  seed: number;
  /** report at most this often (ms); the last step always reports */
  reportIntervalMs: number;
  /** stop after this many steps (budgets, tests); default: all epochs */
  maxSteps?: number;
  /**
   * Yield after every step (so a consumer can pause, step or stop between any two steps), not only
   * when a report is due. The loss is still read back only when a report is due.
   */
  yieldEveryStep?: boolean;
}

export const DEFAULT_STAGE_OPTIONS: StageOptions = {
  epochs: 3,
  batchSize: 128,
  learningRate: 1e-3,
  weightDecay: 1e-4,
  seed: 1,
  reportIntervalMs: 100,
};

interface LoopConfig {
  stage: StageName;
  data: ResidentDataset;
  options: StageOptions;
  /** variable groups, each with its own Adam learning rate */
  groups: { variables: tf.Variable[]; learningRate: number }[];
  /** steps during which only `warmupVariables` train (phase 'head-warmup') */
  warmupSteps?: number;
  warmupVariables?: tf.Variable[];
  /**
   * the scalar loss of one batch without the weight decay and the L1 term (the loop adds them);
   * BN training forwards push their running-stat updates
   */
  loss: (batch: TrainingBatch, bnUpdates: BatchNormUpdate[], phase: 'head-warmup' | 'main') => tf.Scalar;
  /**
   * the variables of the weight-decay term (λ_dec/2)‖θ‖² (options.weightDecay) added to every
   * step's loss. Where the backend can (`canFoldPenalties` and fused Adam), its gradient λ_dec·θ
   * is folded into the Adam kernel and its value comes from one fused kernel, outside the tape;
   * else it is part of the differentiated loss. Same numbers either way (the gradient bit for bit).
   */
  decayed: tf.Variable[];
  /** an L1 term weight()·‖v‖₁ over `variables` (weight read once per step), folded like the decay */
  l1?: { variables: tf.Variable[]; weight: () => number };
  /** extra batches from other datasets (joint training) */
  extraData?: ResidentDataset[];
  extraLoss?: (batches: TrainingBatch[], bnUpdates: BatchNormUpdate[]) => tf.Scalar;
}

/** The generic training loop every stage uses. */
async function* trainingLoop(cfg: LoopConfig): AsyncGenerator<StageProgress, void, undefined> {
  const { options } = cfg;
  const planned = stepsFor(cfg.data.count, options.batchSize, options.epochs);
  const totalSteps = Math.min(planned, options.maxSteps ?? planned);
  const optimizers = cfg.groups.map((g) => ({ variables: g.variables, optimizer: createAdam(g.learningRate) }));
  const warmupOptimizer = cfg.warmupVariables && (cfg.warmupSteps ?? 0) > 0
    ? { variables: cfg.warmupVariables, optimizer: createAdam(cfg.groups[0].learningRate) } : null;
  const extraPlans = (cfg.extraData ?? []).map((d, i) => batchPlan(d.count, options.batchSize, Number.MAX_SAFE_INTEGER, options.seed + 101 * (i + 1)));
  // The head warm-up never takes more than a tenth of a stage, so short (live) runs still train the trunk.
  const warmupSteps = Math.min(cfg.warmupSteps ?? 0, Math.floor(totalSteps / 10));
  const decayed = cfg.decayed;
  const decayedNames = new Set(decayed.map((v) => v.name));
  const l1Names = new Set((cfg.l1?.variables ?? []).map((v) => v.name));
  // Fold the penalties' gradients into Adam (and take their values from one kernel each) where the backend can.
  const fold = canFoldPenalties() && optimizers.every((o) => o.optimizer.foldsDecay) && (warmupOptimizer?.optimizer.foldsDecay ?? true);
  const foldDecay = fold && options.weightDecay !== 0 && decayed.length > 0;
  /** The differentiated part of one step: the loss (without folded penalties) and its gradients. */
  const tapedStep = (indices: Int32Array, extraIndices: Int32Array[], bnUpdates: BatchNormUpdate[], phase: 'head-warmup' | 'main', l1Weight: number, foldL1: boolean) => {
    const batch = trainingBatch(cfg.data, indices);
    const extras = (cfg.extraData ?? []).map((d, i) => trainingBatch(d, extraIndices[i]));
    const varList = phase === 'head-warmup' && cfg.warmupVariables ? cfg.warmupVariables : cfg.groups.flatMap((g) => g.variables);
    return tf.variableGrads(() => {
      const main = cfg.loss(batch, bnUpdates, phase);
      let all = cfg.extraLoss ? tf.add(main, cfg.extraLoss(extras, bnUpdates)) as tf.Scalar : main;
      if (cfg.l1 && !foldL1) all = tf.add(all, tf.mul(l1(cfg.l1.variables), l1Weight));
      return foldDecay ? all : tf.add(all, weightDecay(decayed, options.weightDecay)) as tf.Scalar;
    }, varList);
  };
  // Pipeline warm-up: every program of a step (each phase) compiled in parallel before the first.
  const firstBatch = (count: number) => Int32Array.from({ length: Math.min(options.batchSize, count) }, (_, i) => i);
  const phases: ('head-warmup' | 'main')[] = warmupSteps > 0 ? ['head-warmup', 'main'] : ['main'];
  const compileMs = totalSteps > 0 ? await warmUpPipelines(tf.getBackend(), () => {
    for (const phase of phases) {
      const bnUpdates: BatchNormUpdate[] = [];
      tf.tidy(() => {
        const l1Weight = cfg.l1 && cfg.l1.variables.length > 0 ? cfg.l1.weight() : 0;
        tapedStep(firstBatch(cfg.data.count), (cfg.extraData ?? []).map((d) => firstBatch(d.count)), bnUpdates, phase, l1Weight, fold && l1Weight !== 0);
      });
      tf.dispose(bnUpdates.flatMap((u) => [u.mean, u.variance]));
    }
  }) : null;
  const start = performance.now();
  let lastReport = start;
  let samplesSinceReport = 0;
  let step = 0;
  let lastLoss = NaN;
  try {
    for (const { epoch, indices } of batchPlan(cfg.data.count, options.batchSize, options.epochs, options.seed)) {
      if (step >= totalSteps) break;
      const phase = step < warmupSteps ? 'head-warmup' : 'main';
      const bnUpdates: BatchNormUpdate[] = [];
      const extraIndices = extraPlans.map((p) => p.next().value?.indices ?? new Int32Array(0));
      const l1Weight = cfg.l1 && cfg.l1.variables.length > 0 ? cfg.l1.weight() : 0;
      const foldL1 = fold && l1Weight !== 0;
      const { value, grads } = tf.tidy(() => {
        const taped = tapedStep(indices, extraIndices, bnUpdates, phase, l1Weight, foldL1);
        // folded: the penalties' values, of θ before this step's update (their gradients are Adam's)
        let value = taped.value;
        if (foldL1) value = l1Value(cfg.l1!.variables, l1Weight, value);
        if (foldDecay) value = weightDecayValue(decayed, options.weightDecay, value);
        return { value, grads: taped.grads };
      });
      // tfjs's Adam (createAdam's fallback) keeps its moments by position in the gradient list, so
      // each optimiser always gets the same variables in the same order (zeros where a variable got
      // no gradient).
      const active = phase === 'head-warmup' && warmupOptimizer ? [warmupOptimizer] : optimizers;
      for (const { variables, optimizer } of active) {
        const zeros: tf.Tensor[] = [];
        const list = variables.map((v) => {
          let tensor = grads[v.name];
          if (!tensor) {
            tensor = tf.zerosLike(v);
            zeros.push(tensor);
          }
          return {
            name: v.name, tensor,
            decay: foldDecay && decayedNames.has(v.name) ? options.weightDecay : 0,
            l1: foldL1 && l1Names.has(v.name) ? l1Weight : 0,
          };
        });
        optimizer.applyGradients(list);
        tf.dispose(zeros);
      }
      tf.dispose(grads);
      applyBatchNormUpdates(bnUpdates);
      step += 1;
      samplesSinceReport += indices.length;
      const now = performance.now();
      const last = step >= totalSteps;
      // the first step always reads its loss, so no report ever carries a loss that was never read
      const due = last || step === 1 || now - lastReport >= options.reportIntervalMs;
      if (due) {
        // the only read-back from the device: at most once per reportIntervalMs
        lastLoss = (await value.data())[0];
        value.dispose();
      } else {
        value.dispose();
        if (!options.yieldEveryStep) continue;
      }
      const t = performance.now();
      const elapsedMs = t - start;
      const progress: StageProgress = {
        stage: cfg.stage, step, totalSteps, epoch, epochs: options.epochs, loss: lastLoss, lossFresh: due,
        samplesPerSec: samplesSinceReport / Math.max(1e-3, (t - lastReport) / 1000),
        elapsedMs, etaMs: (elapsedMs / step) * (totalSteps - step), phase, done: last,
        ...(step === 1 && compileMs !== null ? { compileMs } : {}),
      };
      if (due) {
        lastReport = t;
        samplesSinceReport = 0;
      }
      yield progress;
    }
  } finally {
    for (const { optimizer } of optimizers) optimizer.dispose();
    warmupOptimizer?.optimizer.dispose();
  }
}

/** Runs a generator to the end, returning its last report (for scripts and tests). */
export async function runToEnd(stage: AsyncGenerator<StageProgress, void, undefined>): Promise<StageProgress | null> {
  let last: StageProgress | null = null;
  for await (const p of stage) last = p;
  return last;
}

/** Features [N, F] of a plain net; BN in training mode when `training`. */
function plainFeatures(net: Net, x: tf.Tensor4D, training: boolean, updates: BatchNormUpdate[]): tf.Tensor2D {
  return runTopology(net.topology, x, plainUnitEvaluator(net, training, updates));
}

/**
 * Stage 1, source: train net_s on the first task with
 *     L = CE(head_task(net_s(x)), y) + (λ_dec/2)‖θ‖²      (BN in training mode)
 * `net` must already have the task's head.
 */
export function trainSource(net: Net, taskId: string, data: ResidentDataset, options: StageOptions): AsyncGenerator<StageProgress, void, undefined> {
  return trainPlain('source', net, taskId, data, options, trunkTrainableVariables(net).concat(headVariables(net.heads)), 0, true);
}

function headVariables(heads: readonly HeadParams[]): tf.Variable[] {
  return heads.flatMap((h) => [h.kernel, h.bias]);
}

function trainPlain(
  stage: StageName, net: Net, taskId: string, data: ResidentDataset, options: StageOptions,
  variables: tf.Variable[], warmupSteps: number, batchStatistics: boolean,
): AsyncGenerator<StageProgress, void, undefined> {
  const head = net.heads[headIndex(net, taskId)];
  const trunkTrains = variables.some((v) => trunkTrainableVariables(net).includes(v));
  return trainingLoop({
    stage, data, options,
    groups: [{ variables, learningRate: options.learningRate }],
    warmupSteps, warmupVariables: [head.kernel, head.bias],
    decayed: decayedVariables(net, [head]),
    loss: (b, updates, phase) => {
      const training = batchStatistics && trunkTrains && phase === 'main';
      return crossEntropy(applyHead(head, plainFeatures(net, b.x, training, updates)), b.y);
    },
  });
}

/** Options of the fine-tuning stage. */
export interface FinetuneOptions extends StageOptions {
  /** steps during which only the new head trains (lab choice, as LwF does); at most a tenth of the stage */
  headWarmupSteps: number;
  /** BN statistics while the trunk trains (fine-tune, LwF, EWC; default 'batch'; `BaselineBatchNorm`) */
  batchNorm?: BaselineBatchNorm;
}

/**
 * BN statistics of a plain network while it trains on a new task (fine-tuning, LwF, EWC):
 * 'batch': training mode, normalised with each batch's moments, running statistics updated (the
 *          source task's statistics drift toward the new task's);
 * 'frozen-source': inference mode, normalised with the source's running statistics, never updated
 *          (γ and β still train), as ResCL's BN_s is frozen: a baseline then keeps the source's
 *          statistics for the same reason ResCL does, not for a reason that is ResCL's alone.
 */
export type BaselineBatchNorm = 'batch' | 'frozen-source';

/**
 * Stage 2, fine-tune: net_t (a copy of net_s with a new head for `taskId`) trains on the new task with
 *     L = CE(head_new(net_t(x)), y) + (λ_dec/2)‖θ_t‖²
 * after `headWarmupSteps` steps in which only the new head trains (trunk frozen, BN in inference).
 * Also the fine-tuning (FT) baseline.
 */
export function trainFinetune(target: Net, taskId: string, data: ResidentDataset, options: FinetuneOptions): AsyncGenerator<StageProgress, void, undefined> {
  const head = target.heads[headIndex(target, taskId)];
  return trainPlain('finetune', target, taskId, data, options, trunkTrainableVariables(target).concat([head.kernel, head.bias]), options.headWarmupSteps, options.batchNorm !== 'frozen-source');
}

/**
 * Feature-extraction baseline: the trunk is frozen (BN in inference mode), only the new head trains:
 *     L = CE(head_new(net(x)), y) + (λ_dec/2)‖W_head‖²
 */
export function trainFeatureExtraction(net: Net, taskId: string, data: ResidentDataset, options: StageOptions): AsyncGenerator<StageProgress, void, undefined> {
  const head = net.heads[headIndex(net, taskId)];
  return trainPlain('fe', net, taskId, data, options, [head.kernel, head.bias], 0, true);
}

/** Options of the combined stage. */
export interface CombineOptions extends StageOptions {
  /** λ of the L1 decay on α; a function is read at every step (live λ) */
  lambda: number | (() => number);
  /** Adam learning rate of the α (lab choice: 10x the weights') */
  alphaLearningRate: number;
  /** BN_t mode during the stage (lab choice, default 'inference') */
  targetBatchNorm: TargetBatchNormMode;
  /** which θ_t the weight decay covers (`CombineDecay`; default 'kernels') */
  decay?: CombineDecay;
  /**
   * The fine-tuned net_t whose new head gives the teacher Ŷ_t (default `c.target`). Set it when
   * `c.target` is warm-started from another combined net, so the teacher stays θ*_t.
   */
  teacher?: Net;
}

/**
 * Which θ_t the combine stage's weight decay (λ_dec/2)‖θ‖² covers (lab choice, a named setting):
 * 'kernels' (default): the kernels W_t of net_t's trunk and its new head, as in every other stage;
 * 'all': every trainable θ_t (`combinedTargetVariables`): also BN γ_t, β_t, biases b_t, affine
 *        scales and the new head's bias. A target unit contributes α_t ⊙ (k_t ⊙ (W_t x) + c_t) with
 *        k_t = γ_t/√(σ²_t+ε), c_t = β_t − k_t ⊙ (μ_t − b_t): under 'kernels' the L1 on α_t could be
 *        dodged by γ_t, β_t, b_t growing while α_t shrinks; 'all' puts a price on that too.
 */
export type CombineDecay = 'kernels' | 'all';

/** The variables the combine stage decays under `decay` (see `CombineDecay`). */
export function combineDecayedVariables(c: CombinedNet, decay: CombineDecay = 'kernels'): tf.Variable[] {
  return decay === 'all' ? combinedTargetVariables(c) : decayedVariables(c.target, [newHead(c)]);
}

/**
 * Teacher logits on a whole dataset, recorded before a stage: one [N, K_h] tensor per head index in
 * `heads`, computed batch by batch in inference mode. Caller disposes.
 */
export function recordLogits(forward: (x: tf.Tensor4D) => tf.Tensor2D[], data: ResidentDataset, heads: number[], batchSize = 512): tf.Tensor2D[] {
  const chunks: tf.Tensor2D[][] = heads.map(() => []);
  for (let start = 0; start < data.count; start += batchSize) {
    const size = Math.min(batchSize, data.count - start);
    const outs = tf.tidy(() => {
      const logits = forward(tf.slice(data.x, [start, 0, 0, 0], [size, -1, -1, -1]));
      return heads.map((h) => logits[h]);
    });
    outs.forEach((o, i) => chunks[i].push(o));
  }
  return chunks.map((c) => {
    const all = tf.concat(c) as tf.Tensor2D;
    tf.dispose(c);
    return all;
  });
}

/** Inference-mode logits of every head of a plain net (no tidy; call inside one). */
export function plainForward(net: Net): (x: tf.Tensor4D) => tf.Tensor2D[] {
  return (x) => {
    const f = plainFeatures(net, x, false, []);
    return net.heads.map((h) => applyHead(h, f));
  };
}

/**
 * Stage 3, combine: trains α_s, α_t and θ_t of net_c (θ_s and BN_s frozen) on the new task's
 * inputs X_t only, against teachers recorded before the stage (Ŷ_s: every head of net_s on X_t;
 * Ŷ_t: net_t's new head on X_t):
 *     L = Σ_old KD(Ŷ_s, net_c(X_t; head)) + KD(Ŷ_t, net_c(X_t; new head))
 *         + λ·(‖α_s‖₁ + ‖α_t‖₁) + (λ_dec/2)‖θ_t‖²
 * where the decay covers θ_t's kernels or all of θ_t (`options.decay`, `CombineDecay`).
 * The labels of the new task are not used (RESCL.md). α trains at `alphaLearningRate`.
 */
export async function* trainCombined(c: CombinedNet, data: ResidentDataset, options: CombineOptions): AsyncGenerator<StageProgress, void, undefined> {
  const sourceTeacher = recordLogits(plainForward(c.source), data, c.source.heads.map((_, i) => i));
  const targetIndex = c.target.heads.length - 1;
  const [targetTeacher] = recordLogits(plainForward(options.teacher ?? c.target), data, [targetIndex]);
  // Ŷ_s's heads then Ŷ_t side by side [N, ΣK], in net_c's head order; head h's columns start at teacherOffsets[h]
  const teachers = tf.concat([...sourceTeacher, targetTeacher], 1) as tf.Tensor2D;
  const teacherOffsets = [...sourceTeacher, targetTeacher].map((_, h, all) => all.slice(0, h).reduce((a, t) => a + t.shape[1], 0));
  tf.dispose([...sourceTeacher, targetTeacher]);
  const lambdaOf = typeof options.lambda === 'function' ? options.lambda : () => options.lambda as number;
  const alphas = alphaVariables(c);
  const targetVars = combinedTargetVariables(c);
  const decayed = combineDecayedVariables(c, options.decay);
  try {
    yield* trainingLoop({
      stage: 'combine', data, options,
      groups: [{ variables: alphas, learningRate: options.alphaLearningRate }, { variables: targetVars, learningRate: options.learningRate }],
      decayed,
      l1: { variables: alphas, weight: lambdaOf },
      loss: (b, updates) => {
        const logits = forwardCombined(c, b.x, options.targetBatchNorm, updates);
        // every head's teacher logits in one gather; each term reads its own columns
        const batchTeachers = tf.gather(teachers, b.indices);
        return distillationSum(logits.map((student, h) => ({ teacher: batchTeachers, student, teacherOffset: teacherOffsets[h] })));
      },
    });
  } finally {
    teachers.dispose();
  }
}

/** Options of the LwF baseline. */
export interface LwfOptions extends FinetuneOptions {
  /** λ_o, the weight of the distillation term on the old heads */
  lambdaOld: number;
}

/**
 * LwF baseline (Li & Hoiem 2016): `net` is a copy of the previous network with a new head for
 * `taskId`; old-head outputs Ŷ_o are recorded on X_t before training. After a head warm-up:
 *     L = CE(head_new(net(x)), y) + λ_o Σ_old KD(Ŷ_o, head_o(net(x))) + (λ_dec/2)‖θ‖²
 */
export async function* trainLwf(net: Net, taskId: string, data: ResidentDataset, options: LwfOptions): AsyncGenerator<StageProgress, void, undefined> {
  const newIndex = headIndex(net, taskId);
  const oldIndices = net.heads.map((_, i) => i).filter((i) => i !== newIndex);
  const recorded = recordLogits(plainForward(net), data, oldIndices);
  const head = net.heads[newIndex];
  try {
    yield* trainingLoop({
      stage: 'lwf', data, options,
      groups: [{ variables: trunkTrainableVariables(net).concat(headVariables(net.heads)), learningRate: options.learningRate }],
      warmupSteps: options.headWarmupSteps, warmupVariables: [head.kernel, head.bias],
      decayed: decayedVariables(net),
      loss: (b, updates, phase) => {
        const f = plainFeatures(net, b.x, phase === 'main' && options.batchNorm !== 'frozen-source', updates);
        const terms: tf.Scalar[] = [crossEntropy(applyHead(head, f), b.y)];
        oldIndices.forEach((h, i) => terms.push(tf.mul(distillation(tf.gather(recorded[i], b.indices), applyHead(net.heads[h], f)), options.lambdaOld)));
        return sumAll(terms);
      },
    });
  } finally {
    tf.dispose(recorded);
  }
}

/** What EWC keeps from earlier tasks: diagonal Fisher F and anchor θ*, aligned with `ewcParameters`. */
export interface EwcMemory {
  fisher: tf.Tensor[];
  anchors: tf.Tensor[];
}

/** The parameters EWC protects, in a fixed order: trunk kernels/biases/BN γ,β, then every head. */
export function ewcParameters(net: Net): tf.Variable[] {
  return trunkTrainableVariables(net).concat(headVariables(net.heads));
}

/**
 * Which diagonal Fisher EWC uses: 'true' (the expectation under the model's own predictive
 * distribution, exact over the classes) or 'empirical' (at the data's labels).
 */
export type FisherKind = 'true' | 'empirical';

/**
 * Diagonal Fisher at the end of a task, from `samples` examples x_n of that task's data (which EWC,
 * unlike ResCL, needs at that time), with p = softmax(head(net(x_n))) and g_c = ∂ log p_c / ∂θ:
 *     'true':      F_i = mean_n Σ_c p_c (g_c)_i²        (C backward passes per example)
 *     'empirical': F_i = mean_n (g_{y_n})_i²
 * Per-sample gradients, BN in inference mode. Returns tensors aligned with `ewcParameters(net)`;
 * parameters that do not influence this task (other heads) get zeros.
 */
export function computeFisher(net: Net, taskId: string, data: ResidentDataset, samples: number, seed: number, kind: FisherKind = 'empirical'): tf.Tensor[] {
  const params = ewcParameters(net);
  const head = net.heads[headIndex(net, taskId)];
  const classes = head.bias.shape[0];
  const sums: tf.Tensor[] = params.map((p) => tf.zerosLike(p));
  const n = Math.min(samples, data.count);
  const { value: first } = batchPlan(data.count, n, 1, seed).next();
  const indices = first ? first.indices : new Int32Array(0);
  const logitsOf = (x: tf.Tensor4D) => applyHead(head, plainFeatures(net, x, false, []));
  const accumulate = (f: () => tf.Scalar, weight: tf.Scalar | null) => {
    const { value, grads } = tf.variableGrads(f, params);
    value.dispose();
    params.forEach((p, k) => {
      const g = grads[p.name];
      if (!g) return;
      const sq = weight ? tf.mul(tf.square(g), weight) : tf.square(g);
      const next = tf.keep(tf.add(sums[k], sq));
      sums[k].dispose();
      sums[k] = next;
    });
  };
  for (let i = 0; i < indices.length; i++) {
    tf.tidy(() => {
      const b = gatherBatch(data, indices.subarray(i, i + 1));
      if (kind === 'empirical') {
        accumulate(() => crossEntropy(logitsOf(b.x), b.y), null);
        return;
      }
      const probs = tf.softmax(logitsOf(b.x)).reshape([classes]);
      for (let c = 0; c < classes; c++) {
        const weight = probs.slice([c], [1]).reshape([]) as tf.Scalar;
        accumulate(() => tf.neg(tf.logSoftmax(logitsOf(b.x)).slice([0, c], [1, 1]).reshape([])) as tf.Scalar, weight);
      }
    });
  }
  return sums.map((s) => {
    const mean = tf.div(s, Math.max(1, indices.length));
    s.dispose();
    return mean;
  });
}

/** Options of the EWC baseline. */
export interface EwcOptions extends FinetuneOptions {
  /** λ_ewc, the weight of the quadratic penalty */
  lambdaEwc: number;
}

/**
 * EWC baseline (Kirkpatrick et al. 2017): `net` is a copy of the previous network with a new head;
 * `memory` holds the Fisher and anchors of earlier tasks for the parameters that existed then
 * (aligned with `ewcParameters` of the previous network, a prefix of this one's). After a head warm-up:
 *     L = CE(head_new(net(x)), y) + (λ_ewc/2) Σ_i F_i (θ_i − θ*_i)² + (λ_dec/2)‖θ‖²
 */
export function trainEwc(net: Net, taskId: string, data: ResidentDataset, memory: EwcMemory, options: EwcOptions): AsyncGenerator<StageProgress, void, undefined> {
  const head = net.heads[headIndex(net, taskId)];
  const params = ewcParameters(net).filter((v) => v !== head.kernel && v !== head.bias).slice(0, memory.fisher.length);
  return trainingLoop({
    stage: 'ewc', data, options,
    groups: [{ variables: trunkTrainableVariables(net).concat([head.kernel, head.bias]), learningRate: options.learningRate }],
    warmupSteps: options.headWarmupSteps, warmupVariables: [head.kernel, head.bias],
    decayed: decayedVariables(net, [head]),
    loss: (b, updates, phase) => {
      const logits = applyHead(head, plainFeatures(net, b.x, phase === 'main' && options.batchNorm !== 'frozen-source', updates));
      return tf.add(crossEntropy(logits, b.y), ewcPenalty(params, memory.anchors, memory.fisher, options.lambdaEwc)) as tf.Scalar;
    },
  });
}

/**
 * Joint-training oracle (uses every task's data at once; not continual): each step takes one
 * batch from every task and minimises Σ_k CE(head_k(net(x_k)), y_k) + (λ_dec/2)‖θ‖².
 * Epochs count passes over the first task's data. `net` has one head per task, in `taskIds` order.
 */
export function trainJoint(net: Net, taskIds: string[], data: ResidentDataset[], options: StageOptions): AsyncGenerator<StageProgress, void, undefined> {
  const heads = taskIds.map((id) => net.heads[headIndex(net, id)]);
  const taskLoss = (head: HeadParams, b: TrainingBatch, updates: BatchNormUpdate[]) =>
    crossEntropy(applyHead(head, plainFeatures(net, b.x, true, updates)), b.y);
  return trainingLoop({
    stage: 'joint', data: data[0], options,
    groups: [{ variables: trunkTrainableVariables(net).concat(headVariables(heads)), learningRate: options.learningRate }],
    decayed: decayedVariables(net),
    loss: (b, updates) => taskLoss(heads[0], b, updates),
    extraData: data.slice(1),
    extraLoss: (batches, updates) => sumAll(batches.map((b, i) => taskLoss(heads[i + 1], b, updates))),
  });
}

/**
 * Accuracy of one head on a dataset: mean over examples of [argmax logits = label], computed in
 * inference mode in batches. `forward` returns the logits of every head for x [B, 28, 28, 1].
 */
export async function evaluateAccuracy(forward: (x: tf.Tensor4D) => tf.Tensor2D[], head: number, data: ResidentDataset, batchSize = 1000): Promise<number> {
  const correct: tf.Scalar[] = [];
  for (let start = 0; start < data.count; start += batchSize) {
    const size = Math.min(batchSize, data.count - start);
    correct.push(tf.tidy(() => {
      const x = tf.slice(data.x, [start, 0, 0, 0], [size, -1, -1, -1]) as tf.Tensor4D;
      const y = tf.slice(data.y, [start], [size]);
      const logits = forward(x)[head];
      return tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'float32')) as tf.Scalar;
    }));
  }
  const total = tf.tidy(() => sumAll(correct));
  const n = (await total.data())[0];
  tf.dispose([...correct, total]);
  return n / Math.max(1, data.count);
}
