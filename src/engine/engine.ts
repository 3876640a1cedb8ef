/**
 * The training engine: everything the worker does, as a class with no worker globals, so Vitest can
 * drive it in-process through the same protocol (ARCHITECTURE.md rule 3). The worker file only
 * builds it with `post = self.postMessage`, a fetch-based `fetchBytes`, IndexedDB storage and the
 * real backend selection, then forwards every message to `handle`.
 *
 * Contract:
 * - `handle(raw)` validates and answers every message; it never throws. Long work (runs) goes on in
 *   the background; control commands (pause, resume, step, stop, setLambda) act at the next step.
 * - Events are small and throttled: progress ≤ 1000/reportIntervalMs per second, α histograms and
 *   live accuracies every `evalEveryMs` (and at most 1/20 of the time: each waits 20x the last one's cost).
 * - Finished networks and points are saved to `storage` under a session key (scenario + settings),
 *   and the run's last finished stage too, so a reload can resume it (`resumeInterrupted`).
 */
import * as tf from '@tensorflow/tfjs';
import { disposeResident, makeResident, type ResidentDataset } from '../core/batches';
import { forwardCombined, readAlphas, type CombinedNet } from '../core/combine';
import { Experiment, type CombinedState, type ExperimentEvent, type RunResult } from '../core/experiment';
import type { FoldReport } from '../core/fold';
import { criteriaOf, defaultTau } from '../core/metrics';
import { METHOD_KNOBS, type MethodName } from '../core/names';
import { disposeNet, predict } from '../core/nets';
import { deserializeNet, serializeNet, type SerializedNet } from '../core/serialize';
import { evaluateAccuracy } from '../core/train';
import type { Dataset } from '../core/types';
import { loadBundledDataset, type FetchBytes } from '../data/load';
import { parseIdxPair } from '../data/parse/idx';
import { getScenarioInfo, type BundledDatasetName, type ScenarioId } from '../data/registry';
import { buildCustomScenario, buildScenario, type CustomTaskInput, type ScenarioSource } from '../data/tasks';
import type { DatasetSplits, Task } from '../data/types';
import type { BackendSelection } from './backend';
import { BadModelFile, layersArtifacts, loadCheckedModel, parseImportedModel, tfjsFiles, toBase64, type FoldedModelFile } from './modelIO';
import {
  ALPHA_HISTOGRAM_BINS, ALPHA_HISTOGRAM_RANGE, DEFAULT_RUN_CONFIG, PROTOCOL_VERSION, makeError, validateCommand,
  type AlphaLayerHistogram, type BackendName, type BackendPreference, type CriteriaEvent, type CustomTaskFiles, type EngineCommand,
  type EngineEvent, type ErrorCode, type FoldReportEvent, type ProgressEvent, type RestoredEvent, type RunCommand, type RunConfig,
  type RunState, type StageKind, type TradeoffPointEvent,
} from './protocol';
import type { EngineStorage } from './storage';

/** What the engine needs from its host (the worker, or a test). */
export interface EngineDeps {
  post: (event: EngineEvent, transfer?: Transferable[]) => void;
  fetchBytes: FetchBytes;
  storage: EngineStorage;
  /** picks and verifies a backend; `onFatal` is called if it later breaks (device lost) */
  selectBackend: (preference: BackendPreference, onFatal: (message: string) => void) => Promise<BackendSelection>;
  /** gives the host's event loop a turn (default: a MessageChannel round trip, no 4 ms clamp) */
  yieldToEventLoop?: () => Promise<void>;
  /** minimum ms between progress events (default 100: ≤ 10 per second) */
  reportIntervalMs?: number;
  /** ms between live accuracies / α histograms in the combined stage (default 1000) */
  evalEveryMs?: number;
  /** test images per task for live accuracies (default 256) */
  evalSubset?: number;
}

interface ScenarioSpec { scenario: ScenarioId; seed: number; trainLimit: number | null; testLimit: number | null }

/** A finished point with what export and warm starts need. */
interface PointRecord {
  event: TradeoffPointEvent;
  /** ResCL: the folded network */
  folded?: SerializedNet;
  /** ResCL: α and θ_t of the first combined stage */
  state?: CombinedState;
  /** ResCL: the fold check of its (first) combined stage */
  fold?: FoldReport;
}

/** The run record saved at every finished stage (what `resumeInterrupted` needs). */
interface RunRecord extends ScenarioSpec {
  session: string;
  config: RunConfig;
  mode: RunCommand['mode'];
  method?: MethodName;
  knob?: number;
  lastStage: string;
  /** a single network at one λ (`trainLambda`: warm-started, not live), not the live pipeline */
  single?: boolean;
}

class StopSignal extends Error {}

const CURRENT_RUN = 'current';
const LAST_SESSION = 'last';

function defaultYield(): Promise<void> {
  if (typeof MessageChannel === 'undefined') return new Promise((r) => setTimeout(r, 0));
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => { ch.port1.close(); resolve(); };
    ch.port2.postMessage(null);
  });
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function foldReportEvent(lambda: number, fold: FoldReport): FoldReportEvent {
  return { type: 'foldReport', v: PROTOCOL_VERSION, lambda, maxAbsDiff: fold.maxAbsDiff, logitScale: fold.logitScale, paramCount: fold.paramCount };
}

function pointKey(method: MethodName, knob: number | null): string {
  return `${method}|${knob === null ? '-' : knob.toPrecision(12)}`;
}

/** Histogram of α values over ALPHA_HISTOGRAM_RANGE in ALPHA_HISTOGRAM_BINS fixed bins (outside → end bins). */
export function alphaHistogram(values: Float32Array): { counts: number[]; stats: { mean: number; min: number; max: number } } {
  const [lo, hi] = ALPHA_HISTOGRAM_RANGE;
  const counts = new Array<number>(ALPHA_HISTOGRAM_BINS).fill(0);
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    const bin = Math.min(ALPHA_HISTOGRAM_BINS - 1, Math.max(0, Math.floor(((v - lo) / (hi - lo)) * ALPHA_HISTOGRAM_BINS)));
    counts[bin] += 1;
    sum += v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return { counts, stats: { mean: values.length ? sum / values.length : NaN, min, max } };
}

function histograms(alphas: { unit: string; alphaSource: Float32Array; alphaTarget: Float32Array }[]): AlphaLayerHistogram[] {
  return alphas.map((a) => {
    const s = alphaHistogram(a.alphaSource);
    const t = alphaHistogram(a.alphaTarget);
    return { unit: a.unit, alphaSource: s.counts, alphaTarget: t.counts, statsSource: s.stats, statsTarget: t.stats };
  });
}

export class Engine {
  private readonly deps: Required<EngineDeps>;
  private backend: BackendName | null = null;
  private selection: Promise<BackendSelection> | null = null;
  private spec: ScenarioSpec | null = null;
  private tasks: Task[] | null = null;
  private datasets = new Map<BundledDatasetName, DatasetSplits>();
  private config: RunConfig = structuredClone(DEFAULT_RUN_CONFIG);
  private experiment: Experiment | null = null;
  private experimentSession = '';
  private points = new Map<string, PointRecord>();
  private evalSets: ResidentDataset[] = [];
  // run control
  private running: Promise<void> | null = null;
  private state: RunState = 'idle';
  private paused = false;
  private stepsLeft = 0;
  private stopRequested = false;
  private backendLost: string | null = null;
  private wake: (() => void) | null = null;
  private liveLambda = DEFAULT_RUN_CONFIG.lambda;
  private live: { combined: CombinedNet; knob: number | null; taskIndex: number } | null = null;
  private lastYield = 0;
  private lastPost = 0;
  private lastEval = 0;
  /** ms the last live evaluation took: the next one waits ≥ 20x that (live evaluation ≤ ~5% of the time) */
  private evalCost = 0;
  private stageKey = '';
  private detail = '';
  private run: RunRecord | null = null;

  constructor(deps: EngineDeps) {
    this.deps = {
      yieldToEventLoop: defaultYield, reportIntervalMs: 100, evalEveryMs: 1000, evalSubset: 256, ...deps,
    };
  }

  /** The run state last announced with a `state` event. */
  get runState(): RunState {
    return this.state;
  }

  /** Resolves when no run is in progress. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Frees every tensor the engine holds. */
  dispose(): void {
    this.experiment?.dispose();
    this.experiment = null;
    this.disposeEvalSets();
  }

  private post(event: EngineEvent, transfer?: Transferable[]): void {
    this.deps.post(event, transfer);
  }

  private error(code: ErrorCode, message: string, recoverable = true, id?: string): void {
    this.post(makeError(code, message, recoverable, id));
  }

  private setState(state: RunState, detail = this.detail): void {
    this.state = state;
    this.detail = detail;
    this.post({ type: 'state', v: PROTOCOL_VERSION, state, detail });
  }

  /** Validates and handles one incoming message. Never throws. */
  async handle(raw: unknown): Promise<void> {
    const result = validateCommand(raw);
    if (!result.ok) {
      this.post(result.error);
      return;
    }
    const cmd = result.command;
    try {
      await this.dispatch(cmd);
    } catch (e) {
      if (e instanceof BadModelFile) this.error('bad-file', e.message, true, cmd.id);
      else this.error('internal', `${cmd.type} failed: ${errorText(e)}`, true, cmd.id);
    }
  }

  private busy(cmd: EngineCommand): boolean {
    if (!this.running) return false;
    this.error('busy', `cannot ${cmd.type} while a run is in progress (stop it first)`, true, cmd.id);
    return true;
  }

  private async dispatch(cmd: EngineCommand): Promise<void> {
    switch (cmd.type) {
      case 'hello':
        return this.hello(cmd.backend, cmd.id);
      case 'loadScenario':
        if (this.busy(cmd)) return;
        return this.loadScenario({ scenario: cmd.scenario, seed: cmd.seed, trainLimit: cmd.trainLimit, testLimit: cmd.testLimit }, cmd.id);
      case 'loadCustom':
        if (this.busy(cmd)) return;
        return this.loadCustom(cmd.tasks, cmd.seed, cmd.trainLimit, cmd.id);
      case 'configure':
        if (this.busy(cmd)) return;
        this.config = structuredClone(cmd.config);
        this.liveLambda = cmd.config.lambda;
        return;
      case 'run':
      case 'trainLambda': {
        if (this.busy(cmd)) return;
        if (!this.tasks || !this.spec) return this.error('not-ready', `load a scenario before ${cmd.type}`, true, cmd.id);
        const mode = cmd.type === 'run' ? cmd.mode : 'rescl';
        const knob = cmd.type === 'run' ? cmd.knob : cmd.lambda;
        const single = cmd.type === 'trainLambda';
        this.startRun({ ...this.spec, session: '', config: structuredClone(this.config), mode, method: cmd.type === 'run' ? cmd.method : 'rescl', knob, lastStage: 'start', single }, single);
        return;
      }
      case 'pause':
        if (this.running && !this.paused) { this.paused = true; this.setState('paused'); }
        return;
      case 'resume':
        if (this.running && this.paused) { this.paused = false; this.stepsLeft = 0; this.setState('running'); this.wake?.(); }
        return;
      case 'step':
        if (this.running && this.paused) { this.stepsLeft = 1; this.wake?.(); }
        return;
      case 'stop':
        if (this.running) { this.stopRequested = true; this.wake?.(); }
        return;
      case 'setLambda':
        this.liveLambda = cmd.lambda;
        this.config.lambda = cmd.lambda;
        return;
      case 'fold':
        return this.reportFold(cmd.lambda, cmd.id);
      case 'export':
        return this.exportModel(cmd.lambda, cmd.format, cmd.id);
      case 'importModel':
        return this.importModel(cmd.fileName, cmd.json, cmd.weights, cmd.id);
      case 'restore':
        return this.restore(cmd.id);
      case 'clearSaved':
        if (this.busy(cmd)) return;
        await this.deps.storage.clear();
        return;
      case 'resumeInterrupted':
        if (this.busy(cmd)) return;
        return this.resumeInterrupted(cmd.id);
    }
  }

  // -------------------------------------------------------------------------------------------
  // backend

  private async hello(preference: BackendPreference, id?: string): Promise<void> {
    this.selection ??= this.deps.selectBackend(preference, (message) => this.onBackendLost(message));
    try {
      const s = await this.selection;
      this.backend = s.backend;
      this.postReady(s, id);
    } catch (e) {
      this.selection = null;
      this.error('backend-failed', errorText(e), false, id);
    }
  }

  private postReady(s: BackendSelection, id?: string): void {
    this.post({
      type: 'ready', v: PROTOCOL_VERSION, backend: s.backend, refused: s.refused, smoke: s.smoke,
      ...(id !== undefined ? { id } : {}), ...(s.adapterInfo ? { adapterInfo: s.adapterInfo } : {}), ...(s.limits ? { limits: s.limits } : {}),
      ...(s.wasm ? { wasm: s.wasm } : {}),
    });
  }

  /**
   * The device broke (WebGPU device lost / uncaptured error): report it, stop the run, switch to the
   * next backend, rebuild the data there and continue the run from its last saved stage.
   */
  onBackendLost(message: string): void {
    const code = /lost/i.test(message) ? 'gpu-device-lost' : 'gpu-uncaptured-error';
    this.error(code, `${message}; restarting on the next backend from the last saved stage`, true);
    this.backendLost = message;
    if (this.running) { this.stopRequested = true; this.wake?.(); } else void this.recoverBackend(null);
  }

  private async recoverBackend(resume: RunRecord | null): Promise<void> {
    const next: BackendPreference = this.backend === 'webgpu' ? 'webgl' : 'cpu';
    this.backendLost = null;
    // tensors on the broken device cannot be trusted: free what can be freed, rebuild on the next backend
    try { this.dispose(); } catch { /* a lost device may refuse even that */ }
    this.experiment = null;
    this.experimentSession = '';
    this.evalSets = [];
    this.selection = this.deps.selectBackend(next, (m) => this.onBackendLost(m));
    try {
      const s = await this.selection;
      this.backend = s.backend;
      this.postReady(s);
    } catch (e) {
      this.error('backend-failed', errorText(e), false);
      return;
    }
    if (resume) this.startRun(resume, false);
  }

  // -------------------------------------------------------------------------------------------
  // data

  private async loadScenario(spec: ScenarioSpec, id?: string): Promise<void> {
    const info = getScenarioInfo(spec.scenario);
    if (!info) return this.error('bad-field', `unknown scenario ${spec.scenario}`, true, id);
    const source: ScenarioSource = {};
    let tasks: Task[];
    try {
      for (const name of info.datasets) {
        let d = this.datasets.get(name);
        if (!d) {
          d = await loadBundledDataset(name, this.deps.fetchBytes);
          this.datasets.set(name, d);
        }
        source[name] = d;
      }
      tasks = buildScenario(spec.scenario, source, { seed: spec.seed, trainLimit: spec.trainLimit ?? undefined, testLimit: spec.testLimit ?? undefined });
    } catch (e) {
      return this.error('bad-file', `cannot load scenario ${spec.scenario}: ${errorText(e)}`, true, id);
    }
    this.setTasks(spec, tasks, id);
  }

  private async loadCustom(files: CustomTaskFiles[], seed: number, trainLimit: number | null, id?: string): Promise<void> {
    let tasks: Task[];
    try {
      const inputs: CustomTaskInput[] = files.map((f) => ({
        name: f.name,
        train: parseIdxPair(f.trainImages, f.trainLabels, { imagesName: `${f.name} train images`, labelsName: `${f.name} train labels` }),
        test: parseIdxPair(f.testImages, f.testLabels, { imagesName: `${f.name} test images`, labelsName: `${f.name} test labels` }),
        classNames: f.classNames,
      }));
      tasks = buildCustomScenario(inputs, { seed, trainLimit: trainLimit ?? undefined });
    } catch (e) {
      return this.error('bad-file', errorText(e), true, id);
    }
    this.setTasks({ scenario: 'custom', seed, trainLimit, testLimit: null }, tasks, id);
  }

  private setTasks(spec: ScenarioSpec, tasks: Task[], id?: string): void {
    this.spec = spec;
    this.tasks = tasks;
    this.experiment?.dispose();
    this.experiment = null;
    this.experimentSession = '';
    this.points.clear();
    this.disposeEvalSets();
    this.post({
      type: 'scenarioLoaded', v: PROTOCOL_VERSION, scenario: spec.scenario, ...(id !== undefined ? { id } : {}),
      tasks: tasks.map((t) => {
        const n = Math.min(16, t.test.count);
        return {
          id: t.id, name: t.name, classNames: t.classNames, trainCount: t.train.count, testCount: t.test.count,
          sampleImages: t.test.images.slice(0, n * 784).buffer, sampleLabels: [...t.test.labels.slice(0, n)],
        };
      }),
    });
  }

  private disposeEvalSets(): void {
    for (const d of this.evalSets) disposeResident(d);
    this.evalSets = [];
  }

  private subset(d: Dataset, n: number): Dataset {
    const count = Math.min(n, d.count);
    return { images: d.images.subarray(0, count * 784), labels: d.labels.subarray(0, count), count, numClasses: d.numClasses };
  }

  // -------------------------------------------------------------------------------------------
  // sessions and persistence

  private sessionOf(spec: ScenarioSpec, c: RunConfig): string {
    const customNames = spec.scenario === 'custom' ? (this.tasks ?? []).map((t) => t.name) : [];
    return JSON.stringify([spec.scenario, customNames, spec.seed, spec.trainLimit, spec.testLimit, c.net, c.epochs, c.batchSize,
      c.learningRate, c.alphaLearningRate, c.weightDecay, c.headWarmupSteps, c.seed, c.maxStepsPerStage ?? null]);
  }

  /** The experiment of `run`'s session: reuses the current one, else builds one and restores saved stages. */
  private async experimentFor(run: RunRecord): Promise<Experiment> {
    if (this.experiment && this.experimentSession === run.session) return this.experiment;
    this.experiment?.dispose();
    const c = run.config;
    const exp = new Experiment(this.tasks as Task[], {
      net: c.net, seed: c.seed, headWarmupSteps: c.headWarmupSteps, alphaLearningRate: c.alphaLearningRate,
      stage: { epochs: c.epochs, batchSize: c.batchSize, learningRate: c.learningRate, weightDecay: c.weightDecay, seed: c.seed, reportIntervalMs: this.deps.reportIntervalMs, yieldEveryStep: true, maxSteps: c.maxStepsPerStage },
    });
    this.experiment = exp;
    this.experimentSession = run.session;
    this.points.clear();
    const st = this.deps.storage;
    const source = await st.get<SerializedNet>('nets', `${run.session}|source`);
    if (source) await exp.adoptSource(deserializeNet(source));
    const ft = await st.get<SerializedNet>('nets', `${run.session}|finetune1`);
    if (source && ft) exp.adoptFirstFinetuned(deserializeNet(ft));
    for (const { key, value } of await st.list<PointRecord>('points', `${run.session}|`)) this.points.set(key.slice(run.session.length + 1), value);
    return exp;
  }

  private async saveRun(lastStage: string): Promise<void> {
    if (!this.run) return;
    this.run.lastStage = lastStage;
    await this.deps.storage.put('runs', CURRENT_RUN, this.run);
  }

  private async restore(id?: string): Promise<void> {
    const st = this.deps.storage;
    const current = await st.get<RunRecord>('runs', CURRENT_RUN);
    const last = current ?? (await st.get<RunRecord>('runs', LAST_SESSION));
    const points = last ? (await st.list<PointRecord>('points', `${last.session}|`)).map((p) => p.value.event) : [];
    const event: RestoredEvent = {
      type: 'restored', v: PROTOCOL_VERSION, points, ...(id !== undefined ? { id } : {}),
      interrupted: current && !this.running
        ? { scenario: current.scenario, config: current.config, lastStage: current.lastStage, seed: current.seed, trainLimit: current.trainLimit, testLimit: current.testLimit, mode: current.mode }
        : null,
      session: last ? { scenario: last.scenario, seed: last.seed, trainLimit: last.trainLimit, testLimit: last.testLimit, config: last.config } : null,
    };
    this.post(event);
  }

  private async resumeInterrupted(id?: string): Promise<void> {
    const current = await this.deps.storage.get<RunRecord>('runs', CURRENT_RUN);
    if (!current) return this.error('not-ready', 'there is no interrupted run to resume', true, id);
    if (current.scenario === 'custom') return this.error('not-ready', 'a custom-scenario run cannot be resumed after a reload: load the IDX files again and run', true, id);
    const spec = { scenario: current.scenario, seed: current.seed, trainLimit: current.trainLimit, testLimit: current.testLimit };
    const loaded = (): boolean => this.tasks !== null && JSON.stringify(this.spec) === JSON.stringify(spec);
    if (!loaded()) await this.loadScenario(spec, id);
    // a failed load has posted its error; the tasks held before belong to another scenario
    if (!loaded()) return;
    this.config = structuredClone(current.config);
    this.liveLambda = current.config.lambda;
    this.startRun({ ...current, lastStage: current.lastStage }, current.single ?? false);
  }

  // -------------------------------------------------------------------------------------------
  // runs

  private startRun(run: RunRecord, single: boolean): void {
    run.session = this.sessionOf(run, run.config);
    this.run = run;
    this.paused = false;
    this.stopRequested = false;
    this.stepsLeft = 0;
    this.stageKey = '';
    this.liveLambda = run.config.lambda;
    const body = async () => {
      let failed = false;
      this.setState('running', `${run.mode} run`);
      try {
        await this.saveRun(run.lastStage);
        await this.pipeline(run, single);
      } catch (e) {
        if (!(e instanceof StopSignal)) {
          failed = true;
          this.error('internal', `the run failed: ${errorText(e)}`, true);
        }
      } finally {
        this.live = null;
      }
      const lost = this.backendLost !== null;
      if (!lost && !this.stopRequested && !failed) {
        await this.deps.storage.delete('runs', CURRENT_RUN).catch(() => undefined);
        await this.deps.storage.put('runs', LAST_SESSION, run).catch(() => undefined);
      } else if (this.stopRequested && !lost) {
        await this.deps.storage.put('runs', LAST_SESSION, run).catch(() => undefined);
      }
      this.setState(failed ? 'error' : lost ? 'idle' : this.stopRequested ? 'idle' : 'done', failed ? 'the run failed' : this.stopRequested ? 'stopped' : 'finished');
      this.running = null;
      if (lost) await this.recoverBackend(run);
    };
    this.running = body();
  }

  /** The list of (method, knob) a run covers, in order. */
  private plan(run: RunRecord, single: boolean): { method: MethodName; knob: number | null; live: boolean }[] {
    const c = run.config;
    const sweep = (m: MethodName): (number | null)[] => {
      const values = c.sweep[m];
      if (values && values.length) return values;
      return METHOD_KNOBS[m] ? [METHOD_KNOBS[m]?.defaults[0] ?? null] : [null];
    };
    switch (run.mode) {
      case 'rescl':
        return [{ method: 'rescl', knob: run.knob ?? c.lambda, live: !single }];
      case 'sweep':
        return (c.sweep.rescl ?? []).map((k) => ({ method: 'rescl' as const, knob: k, live: false }));
      case 'baseline':
        return [{ method: run.method ?? 'ft', knob: run.knob ?? (METHOD_KNOBS[run.method ?? 'ft'] ? sweep(run.method ?? 'ft')[0] : null), live: false }];
      case 'full': {
        const items: { method: MethodName; knob: number | null; live: boolean }[] = [{ method: 'rescl', knob: c.lambda, live: true }];
        if (c.methods.includes('rescl')) for (const k of c.sweep.rescl ?? []) items.push({ method: 'rescl', knob: k, live: false });
        for (const m of c.methods) if (m !== 'rescl') for (const k of sweep(m)) items.push({ method: m, knob: k, live: false });
        return items;
      }
    }
  }

  private async pipeline(run: RunRecord, single: boolean): Promise<void> {
    const exp = await this.experimentFor(run);
    if (this.evalSets.length === 0) this.evalSets = exp.tasks.map((t) => makeResident(this.subset(t.test, this.deps.evalSubset)));
    await this.consume(exp.trainSourceNet());
    const st = this.deps.storage;
    if (!(await st.get('nets', `${run.session}|source`))) {
      await st.put('nets', `${run.session}|source`, await serializeNet(exp.sourceNet));
    }
    await this.saveRun('source');
    const seen = new Set<string>();
    for (const item of this.plan(run, single)) {
      const key = pointKey(item.method, item.knob);
      if (seen.has(key)) continue;
      seen.add(key);
      if (this.points.has(key) && !single) continue;
      this.detail = `${item.method}${item.knob !== null ? ` ${METHOD_KNOBS[item.method]?.knob ?? 'knob'}=${item.knob}` : ''}`;
      this.setState('running', this.detail);
      const options = item.method === 'rescl'
        ? { lambda: item.live ? () => this.liveLambda : undefined, warmStart: item.live ? undefined : this.nearestState(item.knob ?? 0) }
        : {};
      if (item.live) this.liveLambda = item.knob ?? 0;
      await this.consume(exp.runMethod(item.method, item.knob, options), run);
      await this.saveRun(key);
    }
  }

  /** α and θ_t of the finished ResCL point nearest in log λ (warm start of a sweep point). */
  private nearestState(lambda: number): CombinedState | undefined {
    const log = (x: number) => Math.log10(Math.max(x, 1e-8));
    let best: PointRecord | undefined;
    for (const p of this.points.values()) {
      if (p.event.method !== 'rescl' || !p.state) continue;
      if (!best || Math.abs(log(p.event.knob ?? 0) - log(lambda)) < Math.abs(log(best.event.knob ?? 0) - log(lambda))) best = p;
    }
    return best?.state;
  }

  /** Drives an experiment generator: events out, control in; throws StopSignal on stop. */
  private async consume(gen: AsyncGenerator<ExperimentEvent, void, undefined>, run?: RunRecord): Promise<void> {
    for await (const e of gen) {
      if (e.type === 'progress') await this.onProgress(e);
      else if (e.type === 'combined') this.live = { combined: e.combined, knob: e.knob, taskIndex: e.taskIndex };
      else if (run) await this.onResult(e.result, run);
      await this.checkpoint(e.type === 'progress');
    }
  }

  private async checkpoint(isStep: boolean): Promise<void> {
    const now = performance.now();
    if (now - this.lastYield >= 8) {
      await this.deps.yieldToEventLoop();
      this.lastYield = performance.now();
    }
    if (isStep && this.stepsLeft > 0) this.stepsLeft -= 1;
    while (this.paused && this.stepsLeft === 0 && !this.stopRequested) {
      await new Promise<void>((r) => { this.wake = r; });
      this.wake = null;
    }
    if (this.stopRequested) throw new StopSignal('stopped');
  }

  private async onProgress(e: Extract<ExperimentEvent, { type: 'progress' }>): Promise<void> {
    const p = e.progress;
    const stage = p.stage as StageKind;
    const key = `${e.method}|${e.knob}|${e.taskIndex}|${stage}`;
    const base = { method: e.method, knob: e.knob, taskIndex: e.taskIndex };
    if (key !== this.stageKey) {
      this.stageKey = key;
      this.post({ type: 'stageStarted', v: PROTOCOL_VERSION, ...base, stage, totalSteps: p.totalSteps });
    }
    if (stage !== 'combine' && this.live) this.live = null;
    const now = performance.now();
    const stepping = this.paused;
    if (!(p.done || stepping || now - this.lastPost >= this.deps.reportIntervalMs)) return;
    this.lastPost = now;
    const event: ProgressEvent = {
      type: 'progress', v: PROTOCOL_VERSION, ...base, stage, step: p.step, totalSteps: p.totalSteps, epoch: p.epoch, epochs: p.epochs,
      loss: p.loss, samplesPerSec: p.samplesPerSec, elapsedMs: p.elapsedMs, etaMs: p.etaMs,
    };
    if (stage === 'combine' && this.live) {
      if (e.method === 'rescl' && this.run && (this.run.mode === 'rescl' || this.run.mode === 'full') && this.stageIsLive(e.knob)) event.lambda = this.liveLambda;
      else if (e.knob !== null) event.lambda = e.knob;
      if (p.done || stepping || now - this.lastEval >= Math.max(this.deps.evalEveryMs, 20 * this.evalCost)) {
        event.accByTask = await this.liveAccuracy(this.live.combined, this.live.taskIndex);
        const alphas = await readAlphas(this.live.combined);
        this.post({ type: 'alphaHistogram', v: PROTOCOL_VERSION, lambda: event.lambda ?? 0, step: p.step, layers: histograms(alphas) });
        this.lastEval = performance.now();
        this.evalCost = this.lastEval - now;
      }
    }
    this.post(event);
  }

  private stageIsLive(knob: number | null): boolean {
    return this.run !== null && knob === (this.run.mode === 'rescl' ? this.run.knob ?? this.run.config.lambda : this.run.config.lambda);
  }

  private async liveAccuracy(c: CombinedNet, taskIndex: number): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    const forward = (x: tf.Tensor4D) => forwardCombined(c, x);
    for (let j = 0; j <= taskIndex && j < this.evalSets.length; j++) {
      out[(this.tasks as Task[])[j].id] = await evaluateAccuracy(forward, j, this.evalSets[j]);
    }
    return out;
  }

  private async onResult(r: RunResult, run: RunRecord): Promise<void> {
    const exp = this.experiment as Experiment;
    const st = this.deps.storage;
    try {
      const ft = exp.firstFinetunedNet;
      if (ft && !(await st.get('nets', `${run.session}|finetune1`))) await st.put('nets', `${run.session}|finetune1`, await serializeNet(ft));
      const knob = r.knob;
      const fold = r.fold?.[0];
      const event: TradeoffPointEvent = {
        type: 'tradeoffPoint', v: PROTOCOL_VERSION, method: r.method, knob, accByTask: r.accByTask,
        source: r.tradeoff.source, target: r.tradeoff.target, accMatrix: r.accMatrix, paramCount: r.paramCount,
      };
      if (r.fold) event.foldMaxAbsDiff = Math.max(...r.fold.map((f) => f.maxAbsDiff));
      if (r.alphas) event.alphas = histograms(r.alphas);
      const record: PointRecord = { event };
      if (r.method === 'rescl') {
        record.folded = await serializeNet(r.net);
        if (r.combinedState) record.state = r.combinedState;
        if (fold) record.fold = fold;
      }
      const key = pointKey(r.method, knob);
      this.points.set(key, record);
      await st.put('points', `${run.session}|${key}`, record);
      this.post(event);
      if (fold && knob !== null) this.post(foldReportEvent(knob, fold));
      this.postCriteria();
      await this.postSamples(r);
    } finally {
      disposeNet(r.net);
    }
  }

  private postCriteria(): void {
    const all = [...this.points.values()].map((p) => p.event);
    const ft = all.find((p) => p.method === 'ft');
    const r0 = all.find((p) => p.method === 'rescl' && p.knob === 0);
    let tau: number;
    let tauFrom: CriteriaEvent['tauFrom'];
    if (ft) { tau = defaultTau(ft.target); tauFrom = 'ft'; } else if (r0) { tau = defaultTau(r0.target); tauFrom = 'rescl-lambda0'; } else {
      tau = defaultTau(Math.max(...all.map((p) => p.target))); tauFrom = 'best-target';
    }
    const byMethod: CriteriaEvent['byMethod'] = {};
    for (const m of new Set(all.map((p) => p.method))) byMethod[m] = criteriaOf(all.filter((p) => p.method === m), tau);
    this.post({ type: 'criteria', v: PROTOCOL_VERSION, byMethod, tauFrom });
  }

  private async postSamples(r: RunResult): Promise<void> {
    const tasks = this.tasks as Task[];
    for (let j = 0; j < tasks.length && j < r.net.heads.length; j++) {
      const set = this.evalSets[j];
      const n = Math.min(8, set.count);
      const logits = tf.tidy(() => tf.argMax(predict(r.net, tf.slice(set.x, 0, n) as tf.Tensor4D)[j], 1));
      const predicted = [...(await logits.data())];
      logits.dispose();
      const t = tasks[j];
      this.post({ type: 'samplePredictions', v: PROTOCOL_VERSION, taskId: t.id, images: t.test.images.slice(0, n * 784).buffer, labels: [...t.test.labels.slice(0, n)], predicted });
    }
  }

  // -------------------------------------------------------------------------------------------
  // export / import

  /** The finished ResCL point at λ (loading the saved points after a reload), or an error event and null. */
  private async resclPoint(lambda: number, id?: string): Promise<PointRecord | null> {
    if (this.points.size === 0 && this.spec && this.tasks) {
      // after a reload: the saved points of the loaded scenario with the current settings
      const session = this.sessionOf(this.spec, this.config);
      for (const { key, value } of await this.deps.storage.list<PointRecord>('points', `${session}|`)) this.points.set(key.slice(session.length + 1), value);
    }
    const point = [...this.points.values()].find((p) => p.event.method === 'rescl' && p.event.knob !== null && Math.abs(p.event.knob - lambda) <= 1e-12 * Math.max(1, lambda));
    if (!point?.folded) {
      const have = [...this.points.values()].filter((p) => p.event.method === 'rescl').map((p) => p.event.knob);
      this.error('not-ready', `no finished ResCL network at λ=${lambda} (finished: ${have.length ? have.join(', ') : 'none'})`, true, id);
      return null;
    }
    return point;
  }

  private async reportFold(lambda: number, id?: string): Promise<void> {
    const point = await this.resclPoint(lambda, id);
    if (!point) return;
    if (!point.fold) return this.error('not-ready', `the network at λ=${lambda} was saved without its fold check`, true, id);
    const event = foldReportEvent(lambda, point.fold);
    if (id !== undefined) event.id = id;
    this.post(event);
  }

  private async exportModel(lambda: number, format: 'tfjs' | 'json', id?: string): Promise<void> {
    const point = await this.resclPoint(lambda, id);
    if (!point?.folded) return;
    const net = deserializeNet(point.folded);
    let artifacts: tf.io.ModelArtifacts;
    let weights: ArrayBuffer;
    try {
      ({ artifacts, weights } = await layersArtifacts(net));
    } finally {
      disposeNet(net);
    }
    let files: { name: string; mimeType: string; data: ArrayBuffer }[];
    if (format === 'tfjs') files = tfjsFiles(artifacts, weights);
    else {
      const tasks = this.tasks ?? [];
      const file: FoldedModelFile = {
        format: 'rescl-folded', version: 1, modelTopology: artifacts.modelTopology as object, weightSpecs: artifacts.weightSpecs ?? [],
        weightData: toBase64(weights), tasks: tasks.map((t) => ({ id: t.id, name: t.name, classNames: t.classNames })),
        provenance: {
          scenario: this.spec?.scenario ?? 'unknown', net: this.config.net, seed: this.config.seed, lambda,
          accByTask: point.event.accByTask, foldMaxAbsDiff: point.event.foldMaxAbsDiff ?? null, paramCount: point.event.paramCount,
        },
      };
      const data = new TextEncoder().encode(JSON.stringify(file)).buffer as ArrayBuffer;
      files = [{ name: `rescl-lambda-${lambda}.json`, mimeType: 'application/json', data }];
    }
    this.post({ type: 'exportArtifacts', v: PROTOCOL_VERSION, format, files, ...(id !== undefined ? { id } : {}) }, files.map((f) => f.data));
  }

  private async importModel(fileName: string, json: string, weights: ArrayBuffer | undefined, id?: string): Promise<void> {
    if (!this.tasks) return this.error('not-ready', 'load a scenario before importing a model (it is evaluated on the scenario\'s test sets)', true, id);
    const tasks = this.tasks;
    const artifacts = parseImportedModel(fileName, json, weights);
    const model = await loadCheckedModel(fileName, artifacts, tasks.map((t) => t.test.numClasses));
    const accByTask: Record<string, number> = {};
    try {
      const forward = (x: tf.Tensor4D) => {
        const out = model.predict(x);
        return (Array.isArray(out) ? out : [out]) as tf.Tensor2D[];
      };
      for (let j = 0; j < tasks.length; j++) {
        const data = makeResident(tasks[j].test);
        try {
          accByTask[tasks[j].id] = await evaluateAccuracy(forward, j, data);
        } finally {
          disposeResident(data);
        }
      }
    } finally {
      model.dispose();
    }
    this.post({ type: 'importResult', v: PROTOCOL_VERSION, fileName, tasks: tasks.map((t) => t.id), paramCount: model.countParams(), accByTask, ...(id !== undefined ? { id } : {}) });
  }
}
