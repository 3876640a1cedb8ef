/**
 * (~740 lines: the whole wire format, every command and event type with its validator, in one file
 * so both sides of postMessage read the same contract; no logic beyond validation.)
 *
 * Messages between the main thread (engine/client.ts) and the engine worker (engine.worker.ts).
 *
 * Contract:
 * - Both directions are unions tagged by `type`; every message carries the protocol version `v`.
 * - A command may carry an `id`; events that answer it echo that `id` so callers can correlate.
 * - Everything here must survive `structuredClone` (plain data only: no functions, classes, tensors).
 * - This module imports nothing from tfjs, so the UI/store side can import it.
 *
 * To add a command: add its interface to `EngineCommand`, then a field checker to `commandCheckers`
 * (TypeScript refuses to compile until every command type has one).
 */

import type { AlphaSummary as CoreAlphaSummary } from '../core/alphaSummary';
import type { MetricName } from '../core/metricSuite';
import type { ComparisonSettings, MethodName, NetKind } from '../core/names';
import type { StageName } from '../core/train';
import { COMPARISON_CHOICES, COMPARISON_SETTING_NAMES, METHOD_KNOBS, isComparisonChoice, isMethodName, isNetKind } from '../core/names';
import type { ScenarioId } from '../data/registry';
import { isScenarioId } from '../data/registry';
import { FIXED_TRAINING, TRAINING_DEFAULTS } from '../core/trainingDefaults';

export const PROTOCOL_VERSION = 1;

/**
 * Backends the lab can run on, in the order `auto` tries them: WebGPU, WebGL, then tfjs-wasm
 * (WebAssembly on the CPU, with the lab's own kernels: it can train a convnet), then tfjs's
 * pure-JavaScript `cpu` backend (always there, slowest).
 */
export const BACKEND_NAMES = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** What the user may ask for: a backend, or `auto` (best available). */
export const BACKEND_PREFERENCES = ['auto', ...BACKEND_NAMES] as const;
export type BackendPreference = (typeof BACKEND_PREFERENCES)[number];

export function isBackendPreference(value: unknown): value is BackendPreference {
  return typeof value === 'string' && (BACKEND_PREFERENCES as readonly string[]).includes(value);
}

/** A backend that was tried and not used, and why (human-readable, shown in the UI). */
export interface BackendRefusal {
  name: BackendName;
  reason: string;
}

/** Plain copy of GPUAdapterInfo (the real object is not structured-cloneable). */
export interface GpuAdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

/** Result of the tiny computation run on the chosen backend to prove it really computes. */
export interface BackendSmoke {
  ok: boolean;
  /** matMul([[1,2],[3,4]], [[5,6],[7,8]]) flattened; expected [19, 22, 43, 50]. */
  matMul: number[];
  /** Number of tensors summed by the AddN check (exercises the storage-buffer limit on WebGPU). */
  addNCount: number;
  /** Every element of the AddN result; each must equal addNCount. */
  addNValue: number;
  /** Wall time of the smoke in ms (includes shader compilation on first use). */
  ms: number;
  /** Why `ok` is false, if it is. */
  detail?: string;
}

// ---------------------------------------------------------------------------------------------
// Commands: main thread -> worker

interface CommandBase {
  v: number;
  id?: string;
}

/** First message: pick a backend. Answered by `ready` (or `error`). */
export interface HelloCommand extends CommandBase {
  type: 'hello';
  backend: BackendPreference;
}

/**
 * Training settings (names and numbers only; the engine maps names to code). The comparison
 * settings (core/names.ts `COMPARISON_CHOICES`: budget, jointInit, init, fisher, baselineBatchNorm,
 * combineDecay) are optional: absent = their default (so a run record saved before they existed
 * still reads as what it ran).
 */
export interface RunConfig extends Partial<ComparisonSettings> {
  net: NetKind;
  /** epochs per stage */
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** ResCL: Adam learning rate of the α coefficients */
  alphaLearningRate: number;
  /** λ_dec of the weight decay */
  weightDecay: number;
  /** new-head warm-up steps (fine-tuning, LwF, EWC) */
  headWarmupSteps: number;
  seed: number;
  /** the λ of the live combined stage (ResCL's L1 decay weight) */
  lambda: number;
  /** methods the full run compares */
  methods: MethodName[];
  /** knob values swept per method (ResCL's λ grid, LwF's λ_o, EWC's λ_ewc) */
  sweep: Partial<Record<MethodName, number[]>>;
  /** optional cap on the steps of every stage (quick demos, tests, benchmarks); absent = all epochs */
  maxStepsPerStage?: number;
  /**
   * the training seeds: the whole plan runs once per seed (initialisation, batch order; `seed` is
   * replaced by each in turn) and points and criteria carry mean ± sd over them; absent = [seed]
   */
  seeds?: number[];
}

/** The settings the engine uses until a `configure` arrives. */
export const DEFAULT_RUN_CONFIG: RunConfig = {
  net: 'mlp',
  epochs: TRAINING_DEFAULTS.live.epochs,
  batchSize: TRAINING_DEFAULTS.live.batchSize,
  ...FIXED_TRAINING,
  seed: TRAINING_DEFAULTS.seed,
  lambda: 1e-3,
  methods: ['rescl', 'ft', 'lwf'],
  sweep: { rescl: METHOD_KNOBS.rescl?.defaults ?? [], lwf: METHOD_KNOBS.lwf?.defaults ?? [] },
};

/** Limits the engine enforces on a RunConfig (out-of-range values are refused with `bad-field`). */
export const RUN_CONFIG_LIMITS = {
  epochs: [1, 100],
  batchSize: [1, 1024],
  learningRate: [1e-6, 1],
  alphaLearningRate: [1e-6, 1],
  weightDecay: [0, 1],
  headWarmupSteps: [0, 100000],
  seed: [0, 2 ** 31 - 1],
  lambda: [0, 100],
  knob: [0, 1e6],
  sweepLength: [0, 32],
  maxStepsPerStage: [1, 1_000_000],
  seedCount: [1, 10],
} as const;

/** Loads a bundled scenario (answered by `scenarioLoaded`). Replaces the current tasks only on success. */
export interface LoadScenarioCommand extends CommandBase {
  type: 'loadScenario';
  scenario: Exclude<ScenarioId, 'custom'>;
  seed: number;
  /** training images per task (stratified subset); null = full split */
  trainLimit: number | null;
  /** test images per task; null = full split */
  testLimit: number | null;
}

/** One user task as raw IDX files (ArrayBuffers, transferred). */
export interface CustomTaskFiles {
  name: string;
  trainImages: ArrayBuffer;
  trainLabels: ArrayBuffer;
  testImages: ArrayBuffer;
  testLabels: ArrayBuffer;
  classNames?: string[];
}

/** Loads user IDX files as a custom scenario; a bad file gives an `error` and changes nothing. */
export interface LoadCustomCommand extends CommandBase {
  type: 'loadCustom';
  tasks: CustomTaskFiles[];
  seed: number;
  trainLimit: number | null;
}

/** Sets the training settings used by the next `run`. */
export interface ConfigureCommand extends CommandBase {
  type: 'configure';
  config: RunConfig;
}

/**
 * Runs training on the loaded scenario:
 * - 'full': source → fine-tune → combine at config.lambda (live) → λ sweep → baselines
 * - 'rescl': source (if needed) → fine-tune → combine at `knob` (or config.lambda)
 * - 'sweep': one combined net per value of config.sweep.rescl, warm-started from the nearest finished one
 * - 'baseline': one method (`method`, `knob`)
 */
export interface RunCommand extends CommandBase {
  type: 'run';
  mode: 'full' | 'rescl' | 'sweep' | 'baseline';
  method?: MethodName;
  knob?: number;
}

export interface PauseCommand extends CommandBase { type: 'pause' }
export interface ResumeCommand extends CommandBase { type: 'resume' }
/** While paused: run exactly one training step, then pause again. */
export interface StepCommand extends CommandBase { type: 'step' }
/** Stops the current run after the current step; finished results are kept. */
export interface StopCommand extends CommandBase { type: 'stop' }

/** Changes λ of the running combined stage; takes effect at the next step. */
export interface SetLambdaCommand extends CommandBase {
  type: 'setLambda';
  lambda: number;
}

/** Trains one combined net at `lambda`, warm-started from the finished sweep point nearest in log λ. */
export interface TrainLambdaCommand extends CommandBase {
  type: 'trainLambda';
  lambda: number;
}

/**
 * Asks for the fold check of the finished ResCL network at `lambda` (answered by `foldReport`):
 * max |Δlogit| between its combined and folded forms, and the parameter counts. Every combined
 * stage is folded when it finishes; this re-reports that check for a chosen λ.
 */
export interface FoldCommand extends CommandBase {
  type: 'fold';
  lambda: number;
}

/** Exports the folded network of the finished ResCL point at `lambda`. */
export interface ExportCommand extends CommandBase {
  type: 'export';
  lambda: number;
  /** 'tfjs': model.json + weights.bin; 'json': one self-contained rescl-folded JSON file */
  format: 'tfjs' | 'json';
}

/** Imports a model (either export form) and evaluates it on the loaded scenario's test sets. */
export interface ImportModelCommand extends CommandBase {
  type: 'importModel';
  fileName: string;
  /** the JSON text (model.json or the rescl-folded file) */
  json: string;
  /** the weights file, for the 'tfjs' form */
  weights?: ArrayBuffer;
}

/** Asks for what IndexedDB holds from earlier sessions (answered by `restored`). */
export interface RestoreCommand extends CommandBase { type: 'restore' }

/** Deletes every saved network and result. */
export interface ClearSavedCommand extends CommandBase { type: 'clearSaved' }

/**
 * Resumes the run that `restored.interrupted` describes (a reload or crash cut it short): reloads its
 * scenario and settings, restores the finished stages from storage and continues from there.
 */
export interface ResumeInterruptedCommand extends CommandBase { type: 'resumeInterrupted' }

export type EngineCommand =
  | HelloCommand | LoadScenarioCommand | LoadCustomCommand | ConfigureCommand | RunCommand
  | PauseCommand | ResumeCommand | StepCommand | StopCommand | SetLambdaCommand | TrainLambdaCommand
  | FoldCommand | ExportCommand | ImportModelCommand | RestoreCommand | ClearSavedCommand | ResumeInterruptedCommand;
export type CommandType = EngineCommand['type'];

/** A command as the client passes it to `send`: `v` is stamped by the client. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type OutgoingCommand = DistributiveOmit<EngineCommand, 'v'>;

// ---------------------------------------------------------------------------------------------
// Events: worker -> main thread

interface EventBase {
  v: number;
  /** The `id` of the command this answers, if it had one. */
  id?: string;
}

export interface ReadyEvent extends EventBase {
  type: 'ready';
  backend: BackendName;
  refused: BackendRefusal[];
  adapterInfo?: GpuAdapterSummary;
  /** The limits the WebGPU device was created with (only for webgpu). */
  limits?: Record<string, number>;
  /** What tfjs-wasm runs with (only for wasm). */
  wasm?: WasmSummary;
  smoke: BackendSmoke;
}

/** The binary tfjs-wasm chose (SIMD, threaded) and how many threads it uses. */
/** What tfjs-wasm runs with: the binary its feature detection chose and its thread count. */
export interface WasmSummary {
  /** one of backend.ts's WASM_BINARY_NAMES */
  binary: string;
  simd: boolean;
  /** true only in a cross-origin isolated context (SharedArrayBuffer); never in Node */
  multithread: boolean;
  /** threads XNNPACK uses (1 without multithreading) */
  threads: number;
}

export type ErrorCode =
  | 'bad-message' // not an object / no string `type`
  | 'unknown-type'
  | 'version-mismatch'
  | 'bad-field'
  | 'gpu-uncaptured-error' // GPUDevice 'uncapturederror': results may be garbage
  | 'gpu-device-lost'
  | 'backend-failed'
  | 'worker-crashed'
  | 'bad-file' // a user's IDX file or imported model was refused
  | 'not-ready' // e.g. `run` before a scenario is loaded, `export` with no such network
  | 'busy' // a run is in progress
  | 'storage-failed' // saving to IndexedDB failed (quota): the run goes on unsaved
  | 'timeout' // the page's side: the engine did not answer a request in time (engine/client.ts)
  | 'internal';

export interface EngineErrorEvent extends EventBase {
  type: 'error';
  code: ErrorCode;
  message: string;
  /** false: the engine cannot continue (reload / pick another backend). */
  recoverable: boolean;
}

/** A task as the UI sees it, with a few sample images for the grid. */
export interface TaskSummary {
  id: string;
  name: string;
  classNames: string[];
  trainCount: number;
  testCount: number;
  /** up to 16 sample images, 784 uint8 each, concatenated */
  sampleImages: ArrayBuffer;
  sampleLabels: number[];
}

export interface ScenarioLoadedEvent extends EventBase {
  type: 'scenarioLoaded';
  scenario: ScenarioId;
  tasks: TaskSummary[];
}

export type RunState = 'idle' | 'running' | 'paused' | 'done' | 'error';
/** A training stage's name: core/train.ts's `StageName` (one definition). */
export type StageKind = StageName;

/** The engine's run state, sent on every change. */
export interface StateEvent extends EventBase {
  type: 'state';
  state: RunState;
  /** what is running, in words (e.g. "ResCL λ=1e-3: combining, task 2") */
  detail: string;
}

/** Which training run an event belongs to. */
export interface RunKey {
  method: MethodName | 'source';
  /** the method's knob (λ for ResCL), null for methods without one */
  knob: number | null;
  /** index of the task being learned */
  taskIndex: number;
}

export interface StageStartedEvent extends EventBase, RunKey {
  type: 'stageStarted';
  stage: StageKind;
  totalSteps: number;
}

/** Throttled (≤ 10 per second) progress of the running stage. */
export interface ProgressEvent extends EventBase, RunKey {
  type: 'progress';
  stage: StageKind;
  step: number;
  totalSteps: number;
  epoch: number;
  epochs: number;
  loss: number;
  samplesPerSec: number;
  elapsedMs: number;
  etaMs: number;
  /** for the combined stage: the λ in force */
  lambda?: number;
  /** which of the run's seeds trains now (index from 0) */
  seed?: { value: number; index: number; count: number };
  /**
   * time left for the whole run, all seeds: the current stage's ETA until one seed has finished, then
   * that plus the measured time per seed for the seeds still to run; absent when not known yet
   */
  runEtaMs?: number;
  /** test accuracy per task id, measured now and then on a test subset (absent in between) */
  accByTask?: Record<string, number>;
  /**
   * ResCL's combine stage: mean |α_s|, |α_t| per combined unit at the steps measured since the last
   * progress event (the α trajectories; see `checkAlphaSummaries`)
   */
  alphas?: AlphaSummary[];
  /** how the device trains now (the backend card), measured between this progress event and the one before */
  device?: DeviceStats;
}

/** How fast the device trains, for the backend card (all ≥ 0). */
export interface DeviceStats {
  /** wall-clock ms per training step since the last progress event of the stage (live evaluation excluded) */
  msPerStep?: number;
  /** GPU compute dispatches per step over the same steps (webgpu only) */
  dispatchesPerStep?: number;
  /** GPU queue submissions per step (webgpu only) */
  submitsPerStep?: number;
  /** ms the last pipeline warm-up took (every program of a step compiled in parallel before its first step; webgpu only) */
  compileMs?: number;
}

/** null when `value` is a valid DeviceStats, else what is wrong with it (the store checks the worker's stats). */
export function checkDeviceStats(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return `device must be an object (got ${describe(value)})`;
  const f = value as Fields;
  for (const name of ['msPerStep', 'dispatchesPerStep', 'submitsPerStep', 'compileMs']) {
    if (f[name] === undefined) continue;
    const x = f[name];
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) return `device.${name} must be a finite number ≥ 0 (got ${describe(x)})`;
  }
  return null;
}

/** Mean |α| of one combined unit's source and target branch at one step: core/alphaSummary.ts's type. */
export type AlphaSummary = CoreAlphaSummary;

/**
 * null when `value` is a list of α summaries (a string `unit`, a whole `step` ≥ 0, finite means
 * ≥ 0), else what is wrong with it: the store checks the worker's summaries before drawing them.
 */
export function checkAlphaSummaries(value: unknown): string | null {
  if (!Array.isArray(value)) return `alphas must be a list (got ${describe(value)})`;
  for (const [i, a] of value.entries()) {
    if (typeof a !== 'object' || a === null) return `alphas[${i}] must be an object (got ${describe(a)})`;
    const f = a as Fields;
    if (typeof f.unit !== 'string') return `alphas[${i}].unit must be a string (got ${describe(f.unit)})`;
    if (typeof f.step !== 'number' || !Number.isInteger(f.step) || f.step < 0) return `alphas[${i}].step must be a whole number ≥ 0 (got ${describe(f.step)})`;
    for (const k of ['meanAbsSource', 'meanAbsTarget']) {
      const v = f[k];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return `alphas[${i}].${k} must be a finite number ≥ 0 (got ${describe(v)})`;
    }
  }
  return null;
}

/** Fixed histogram bins for α: edges from −1.5 to 1.5 (values outside go to the end bins). */
export const ALPHA_HISTOGRAM_RANGE: readonly [number, number] = [-1.5, 1.5];
export const ALPHA_HISTOGRAM_BINS = 30;

export interface AlphaLayerHistogram {
  unit: string;
  /** counts per bin, ALPHA_HISTOGRAM_BINS each */
  alphaSource: number[];
  alphaTarget: number[];
  statsSource: { mean: number; min: number; max: number };
  statsTarget: { mean: number; min: number; max: number };
}

/** α histograms of the combined network, per layer (streamed during the combined stage). */
export interface AlphaHistogramEvent extends EventBase {
  type: 'alphaHistogram';
  /** λ of the combined network they belong to */
  lambda: number;
  step: number;
  layers: AlphaLayerHistogram[];
}

/** A finished run of one method at one knob value. */
export interface TradeoffPointEvent extends EventBase {
  type: 'tradeoffPoint';
  method: MethodName;
  knob: number | null;
  /** final accuracy per task id */
  accByTask: Record<string, number>;
  /** mean accuracy over earlier tasks / accuracy on the last task */
  source: number;
  target: number;
  /** mean accuracy over all tasks (criterion 1; (source + target) / 2 for two tasks); absent in points saved before it existed */
  average?: number;
  /** R[i][j]: accuracy on task j after task i (joint: only the last row) */
  accMatrix: number[][];
  paramCount: number;
  /** ResCL: max |Δlogit| between the combined and folded networks */
  foldMaxAbsDiff?: number;
  /** ResCL: the final α histograms of this network */
  alphas?: AlphaLayerHistogram[];
  /**
   * Over seeds: source, target, average, accByTask and accMatrix are then means over the seeds
   * that finished this point, and these are their sample standard deviations (0 for one seed).
   */
  spread?: { seeds: number; source: number; target: number; average: number };
  /**
   * The metric suite (core/metricSuite.ts) of each seed's accuracy matrix, then mean ± sample sd over
   * the seeds where it is defined; `why` when it is undefined in every seed (FWT: the lab trains no
   * single-task references). Absent on points saved before it existed.
   */
  metrics?: Partial<Record<MetricName, PointMetric>>;
}

/** One metric of a point over seeds: mean and sample sd (null value: undefined, with why). */
export interface PointMetric {
  value: number | null;
  sd?: number;
  seeds?: number;
  why?: string;
}

/** One method's criteria: over seeds, means (of the seeds where defined) with their sample sd. */
export interface MethodCriteria {
  maxAvgAcc: number;
  tau: number;
  /** null when no setting reached τ in any seed */
  srcAccAtTau: number | null;
  /** why criterion 2 is undefined (only when `srcAccAtTau` is null): τ undefined, no finite point, τ not reached */
  srcAccAtTauWhy?: string;
  /** seeds the criteria average (absent: one) */
  seeds?: number;
  maxAvgAccSd?: number;
  srcAccAtTauSd?: number;
  /** seeds in which no setting reached τ */
  unreachableSeeds?: number;
}

/** The paper's two criteria per method, recomputed when a point arrives. */
export interface CriteriaEvent extends EventBase {
  type: 'criteria';
  byMethod: Partial<Record<MethodName, MethodCriteria>>;
  /**
   * Where τ came from: fine-tuning's target accuracy − 1 point ('ft'), else ResCL at λ = 0 − 1 point
   * ('rescl-lambda0'), else the best target accuracy of any finished point − 1 point ('best-target').
   */
  tauFrom?: 'ft' | 'rescl-lambda0' | 'best-target';
}

/** A few test images with the selected network's predictions. */
export interface SamplePredictionsEvent extends EventBase {
  type: 'samplePredictions';
  taskId: string;
  images: ArrayBuffer;
  labels: number[];
  predicted: number[];
}

export interface FoldReportEvent extends EventBase {
  type: 'foldReport';
  lambda: number;
  maxAbsDiff: number;
  logitScale: number;
  paramCount: { source: number; combined: number; folded: number };
}

/** Files of an export (ArrayBuffers transferred). */
export interface ExportArtifactsEvent extends EventBase {
  type: 'exportArtifacts';
  format: 'tfjs' | 'json';
  files: { name: string; mimeType: string; data: ArrayBuffer }[];
}

/** An imported model, checked and evaluated on the loaded scenario. */
export interface ImportResultEvent extends EventBase {
  type: 'importResult';
  fileName: string;
  tasks: string[];
  paramCount: number;
  accByTask: Record<string, number>;
}

/** What IndexedDB holds: finished points and the last interrupted run, if any. */
export interface RestoredEvent extends EventBase {
  type: 'restored';
  points: TradeoffPointEvent[];
  /** a run that a reload or crash interrupted, resumable from its last finished stage */
  interrupted: { scenario: ScenarioId; config: RunConfig; lastStage: string; seed?: number; trainLimit?: number | null; testLimit?: number | null; mode?: RunCommand['mode'] } | null;
  /** the scenario and settings the restored points belong to (null when nothing is saved) */
  session?: { scenario: ScenarioId; seed: number; trainLimit: number | null; testLimit: number | null; config: RunConfig } | null;
}

export type EngineEvent =
  | ReadyEvent | EngineErrorEvent | ScenarioLoadedEvent | StateEvent | StageStartedEvent | ProgressEvent
  | AlphaHistogramEvent | TradeoffPointEvent | CriteriaEvent | SamplePredictionsEvent | FoldReportEvent
  | ExportArtifactsEvent | ImportResultEvent | RestoredEvent;
export type EventType = EngineEvent['type'];

// ---------------------------------------------------------------------------------------------
// Validation (worker side: every incoming message goes through this)

export type CommandValidation =
  | { ok: true; command: EngineCommand }
  | { ok: false; error: EngineErrorEvent };

type Fields = Record<string, unknown>;
/** Returns null when the command-specific fields are valid, else what is wrong. */
type FieldChecker = (msg: Fields) => string | null;

/** null if `value` is a finite number in [lo, hi] (an integer when `integer`), else the problem. */
function checkNumber(name: string, value: unknown, [lo, hi]: readonly [number, number], integer = false): string | null {
  if (typeof value !== 'number' || !Number.isFinite(value)) return `${name} must be a number (got ${describe(value)})`;
  if (integer && !Number.isInteger(value)) return `${name} must be a whole number (got ${value})`;
  if (value < lo || value > hi) return `${name} must be between ${lo} and ${hi} (got ${value})`;
  return null;
}

function checkLimit(name: string, value: unknown): string | null {
  return value === null ? null : checkNumber(name, value, [1, 1_000_000], true);
}

function firstProblem(...problems: (string | null)[]): string | null {
  return problems.find((p) => p !== null) ?? null;
}

function checkRunConfig(c: unknown): string | null {
  if (typeof c !== 'object' || c === null) return `configure.config must be an object (got ${describe(c)})`;
  const cfg = c as Fields;
  const L = RUN_CONFIG_LIMITS;
  if (!isNetKind(cfg.net)) return `config.net must be mlp, conv4 or resnet8 (got ${describe(cfg.net)})`;
  if (!Array.isArray(cfg.methods) || !cfg.methods.every(isMethodName)) return 'config.methods must be a list of method names';
  if (typeof cfg.sweep !== 'object' || cfg.sweep === null) return 'config.sweep must be an object';
  for (const [method, values] of Object.entries(cfg.sweep as Fields)) {
    if (!isMethodName(method)) return `config.sweep has an unknown method ${JSON.stringify(method)}`;
    if (!Array.isArray(values) || values.length > L.sweepLength[1]) return `config.sweep.${method} must be a list of at most ${L.sweepLength[1]} numbers`;
    for (const v of values) { const p = checkNumber(`config.sweep.${method}[]`, v, L.knob); if (p) return p; }
  }
  return firstProblem(
    checkNumber('config.epochs', cfg.epochs, L.epochs, true),
    checkNumber('config.batchSize', cfg.batchSize, L.batchSize, true),
    checkNumber('config.learningRate', cfg.learningRate, L.learningRate),
    checkNumber('config.alphaLearningRate', cfg.alphaLearningRate, L.alphaLearningRate),
    checkNumber('config.weightDecay', cfg.weightDecay, L.weightDecay),
    checkNumber('config.headWarmupSteps', cfg.headWarmupSteps, L.headWarmupSteps, true),
    checkNumber('config.seed', cfg.seed, L.seed, true),
    checkNumber('config.lambda', cfg.lambda, L.lambda),
    cfg.maxStepsPerStage === undefined ? null : checkNumber('config.maxStepsPerStage', cfg.maxStepsPerStage, L.maxStepsPerStage, true),
    cfg.seeds === undefined ? null : checkSeeds(cfg.seeds),
    ...COMPARISON_SETTING_NAMES.map((k) => checkComparison(k, cfg[k])),
  );
}

/** null when a comparison setting is absent (its default) or one of its names, else what is wrong. */
function checkComparison(setting: keyof typeof COMPARISON_CHOICES, value: unknown): string | null {
  if (value === undefined || isComparisonChoice(setting, value)) return null;
  return `config.${setting} must be one of ${COMPARISON_CHOICES[setting].join(', ')} (got ${describe(value)})`;
}

/** null when `seeds` is 1 … 10 distinct whole numbers in the seed range, else what is wrong. */
export function checkSeeds(seeds: unknown): string | null {
  const [lo, hi] = RUN_CONFIG_LIMITS.seedCount;
  if (!Array.isArray(seeds) || seeds.length < lo || seeds.length > hi) return `config.seeds must be a list of ${lo} to ${hi} seeds (got ${Array.isArray(seeds) ? `${seeds.length}` : describe(seeds)})`;
  for (const v of seeds) { const p = checkNumber('config.seeds[]', v, RUN_CONFIG_LIMITS.seed, true); if (p) return p; }
  if (new Set(seeds).size !== seeds.length) return `config.seeds must not repeat a seed (got ${seeds.join(', ')})`;
  return null;
}

const none: FieldChecker = () => null;

const commandCheckers: { [K in CommandType]: FieldChecker } = {
  hello: (msg) =>
    isBackendPreference(msg.backend)
      ? null
      : `hello.backend must be one of ${BACKEND_PREFERENCES.join(', ')} (got ${describe(msg.backend)})`,
  loadScenario: (msg) => firstProblem(
    isScenarioId(msg.scenario) && msg.scenario !== 'custom' ? null : `loadScenario.scenario must be a bundled scenario id (got ${describe(msg.scenario)})`,
    checkNumber('loadScenario.seed', msg.seed, RUN_CONFIG_LIMITS.seed, true),
    checkLimit('loadScenario.trainLimit', msg.trainLimit),
    checkLimit('loadScenario.testLimit', msg.testLimit),
  ),
  loadCustom: (msg) => {
    if (!Array.isArray(msg.tasks) || msg.tasks.length < 2 || msg.tasks.length > 10) return 'loadCustom.tasks must list 2 to 10 tasks';
    for (const t of msg.tasks as Fields[]) {
      if (typeof t !== 'object' || t === null || typeof t.name !== 'string') return 'each custom task needs a name';
      for (const f of ['trainImages', 'trainLabels', 'testImages', 'testLabels']) {
        if (!(t[f] instanceof ArrayBuffer)) return `custom task ${JSON.stringify(t.name)}: ${f} must be an ArrayBuffer`;
      }
    }
    return firstProblem(checkNumber('loadCustom.seed', msg.seed, RUN_CONFIG_LIMITS.seed, true), checkLimit('loadCustom.trainLimit', msg.trainLimit));
  },
  configure: (msg) => checkRunConfig(msg.config),
  run: (msg) => firstProblem(
    ['full', 'rescl', 'sweep', 'baseline'].includes(msg.mode as string) ? null : `run.mode must be full, rescl, sweep or baseline (got ${describe(msg.mode)})`,
    msg.method === undefined || isMethodName(msg.method) ? null : `run.method must be a method name (got ${describe(msg.method)})`,
    msg.mode === 'baseline' && msg.method === undefined ? 'run.mode "baseline" needs a method' : null,
    msg.knob === undefined ? null : checkNumber('run.knob', msg.knob, RUN_CONFIG_LIMITS.knob),
  ),
  pause: none,
  resume: none,
  step: none,
  stop: none,
  setLambda: (msg) => checkNumber('setLambda.lambda', msg.lambda, RUN_CONFIG_LIMITS.lambda),
  trainLambda: (msg) => checkNumber('trainLambda.lambda', msg.lambda, RUN_CONFIG_LIMITS.lambda),
  fold: (msg) => checkNumber('fold.lambda', msg.lambda, RUN_CONFIG_LIMITS.lambda),
  export: (msg) => firstProblem(
    checkNumber('export.lambda', msg.lambda, RUN_CONFIG_LIMITS.lambda),
    msg.format === 'tfjs' || msg.format === 'json' ? null : `export.format must be tfjs or json (got ${describe(msg.format)})`,
  ),
  importModel: (msg) => firstProblem(
    typeof msg.fileName === 'string' ? null : 'importModel.fileName must be a string',
    typeof msg.json === 'string' ? null : 'importModel.json must be the text of the JSON file',
    msg.weights === undefined || msg.weights instanceof ArrayBuffer ? null : 'importModel.weights must be an ArrayBuffer',
  ),
  restore: none,
  clearSaved: none,
  resumeInterrupted: none,
};

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return typeof value;
}

export function makeError(code: ErrorCode, message: string, recoverable: boolean, id?: string): EngineErrorEvent {
  const event: EngineErrorEvent = { type: 'error', v: PROTOCOL_VERSION, code, message, recoverable };
  if (id !== undefined) event.id = id;
  return event;
}

/**
 * Checks an incoming message (`MessageEvent.data`, so `unknown`) and returns it as a typed command,
 * or an `error` event to post back. Checks in order: shape, `id`, `type` known, `v` matches, fields.
 */
export function validateCommand(raw: unknown): CommandValidation {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, error: makeError('bad-message', `command must be an object (got ${describe(raw)})`, true) };
  }
  const msg = raw as Fields;
  let id: string | undefined;
  if (msg.id !== undefined) {
    if (typeof msg.id !== 'string') {
      return { ok: false, error: makeError('bad-field', `command id must be a string (got ${describe(msg.id)})`, true) };
    }
    id = msg.id;
  }
  if (typeof msg.type !== 'string') {
    return { ok: false, error: makeError('bad-message', `command has no string "type" (got ${describe(msg.type)})`, true, id) };
  }
  if (!Object.hasOwn(commandCheckers, msg.type)) {
    return { ok: false, error: makeError('unknown-type', `unknown command type ${JSON.stringify(msg.type)}`, true, id) };
  }
  if (msg.v !== PROTOCOL_VERSION) {
    return {
      ok: false,
      error: makeError(
        'version-mismatch',
        `protocol version mismatch: worker speaks v${PROTOCOL_VERSION}, command ${JSON.stringify(msg.type)} has v=${describe(msg.v)}`,
        false,
        id,
      ),
    };
  }
  const problem = commandCheckers[msg.type as CommandType](msg);
  if (problem !== null) {
    return { ok: false, error: makeError('bad-field', problem, true, id) };
  }
  return { ok: true, command: msg as unknown as EngineCommand };
}
