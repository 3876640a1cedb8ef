/**
 * (~460 lines: the command dispatch with one short handler per command, kept together so the whole
 * protocol surface reads in one place; every job with state of its own is in its own module below.)
 *
 * The training engine: everything the worker does, as a class with no worker globals, so Vitest can
 * drive it in-process through the same protocol (docs/ARCHITECTURE.md, "the engine"). The worker file
 * only builds it with `post = self.postMessage`, a fetch-based `fetchBytes`, IndexedDB storage and
 * the real backend selection, then forwards every message to `handle`.
 *
 * `Engine` dispatches commands and drives the run; each job lives in its own module:
 * run control (runControl.ts), sessions and persistence (sessions.ts), run planning (plan.ts),
 * event building and throttling (reporting.ts), datasets (datasets.ts), backend recovery
 * (recovery.ts), export/import (exchange.ts, modelIO.ts).
 *
 * Contract:
 * - `handle(raw)` validates and answers every message; it never throws. Long work (runs) goes on in
 *   the background; control commands (pause, resume, step, stop, setLambda) act at the next step.
 * - Events are small and throttled (ReportThrottle).
 * - Finished networks and points are saved under a session key, and the run's last finished stage
 *   too, so a reload can resume it (`resumeInterrupted`). A failing save (quota) is reported once
 *   per run as `storage-failed` and the run goes on.
 */
import { disposeResident, makeResident, type ResidentDataset } from '../core/batches';
import { Experiment } from '../core/experiment';
import { sameLambda } from '../core/lambda';
import { comparisonOf } from '../core/names';
import { deserializeNet } from '../core/serialize';
import type { FetchBytes } from '../data/load';
import type { Task } from '../data/types';
import type { BackendSelection } from './backend';
import { customTasks, DatasetCache, sampleImages, subset, UnknownScenario } from './datasets';
import { errorMessage } from './errors';
import { experimentOptionsOf } from './experimentOptions';
import { evaluateImported, exportFiles } from './exchange';
import { BadModelFile } from './modelIO';
import {
  DEFAULT_RUN_CONFIG, PROTOCOL_VERSION, makeError, validateCommand,
  type BackendName, type BackendPreference, type CustomTaskFiles, type EngineCommand, type EngineEvent, type ErrorCode,
  type RunConfig, type RunState,
} from './protocol';
import { recoveryChoice } from './recovery';
import { foldReportEvent, ReportThrottle } from './reporting';
import { defaultYield, RunControl, StopSignal } from './runControl';
import { RunDriver } from './runDriver';
import { SeedClock, SeedResults } from './seedRuns';
import { sessionKey, SessionStore, type PointRecord, type RunOutcome, type RunRecord, type ScenarioSpec } from './sessions';
import type { EngineStorage } from './storage';

/** What the engine needs from its host (the worker, or a test). */
export interface EngineDeps {
  post: (event: EngineEvent, transfer?: Transferable[]) => void;
  fetchBytes: FetchBytes;
  storage: EngineStorage;
  /**
   * Picks and verifies a backend, never one in `exclude` (recovery, see recovery.ts); `onFatal` is
   * called if it later breaks (device lost).
   */
  selectBackend: (preference: BackendPreference, onFatal: (message: string) => void, exclude?: BackendName[]) => Promise<BackendSelection>;
  /** gives the host's event loop a turn (default: a MessageChannel round trip, no 4 ms clamp) */
  yieldToEventLoop?: () => Promise<void>;
  /** minimum ms between progress events (default 100: ≤ 10 per second) */
  reportIntervalMs?: number;
  /** ms between live accuracies / α histograms in the combined stage (default 1000) */
  evalEveryMs?: number;
  /** test images per task for live accuracies (default 256) */
  evalSubset?: number;
}

/** Images per task in `scenarioLoaded` (the sample grids). */
const SCENARIO_SAMPLES = 16;

export class Engine {
  private readonly deps: Required<EngineDeps>;
  private readonly sessions: SessionStore;
  private readonly datasets: DatasetCache;
  private readonly control: RunControl;
  private backend: BackendName | null = null;
  private selection: Promise<BackendSelection> | null = null;
  private spec: ScenarioSpec | null = null;
  private tasks: Task[] | null = null;
  private config: RunConfig = structuredClone(DEFAULT_RUN_CONFIG);
  private experiment: Experiment | null = null;
  private experimentSession = '';
  private points = new Map<string, PointRecord>();
  private evalSets: ResidentDataset[] = [];
  // the run in progress
  private driver: RunDriver | null = null;
  private running: Promise<void> | null = null;
  private state: RunState = 'idle';
  private detail = '';
  private backendLost: string | null = null;
  private storageWarned = false;

  constructor(deps: EngineDeps) {
    this.deps = { yieldToEventLoop: defaultYield, reportIntervalMs: 100, evalEveryMs: 1000, evalSubset: 256, ...deps };
    this.sessions = new SessionStore(this.deps.storage);
    this.datasets = new DatasetCache(this.deps.fetchBytes);
    this.control = new RunControl(this.deps.yieldToEventLoop);
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
    this.experimentSession = '';
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
      else this.error('internal', `${cmd.type} failed: ${errorMessage(e)}`, true, cmd.id);
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
        return;
      case 'run':
      case 'trainLambda': {
        if (this.busy(cmd)) return;
        if (!this.tasks || !this.spec) return this.error('not-ready', `load a scenario before ${cmd.type}`, true, cmd.id);
        const single = cmd.type === 'trainLambda';
        const mode = cmd.type === 'run' ? cmd.mode : 'rescl';
        const knob = cmd.type === 'run' ? cmd.knob : cmd.lambda;
        const method = cmd.type === 'run' ? cmd.method : 'rescl';
        this.startRun({ ...this.spec, session: '', config: structuredClone(this.config), mode, method, knob, lastStage: 'start', single }, single);
        return;
      }
      case 'pause':
        if (this.running && this.control.pause()) this.setState('paused');
        return;
      case 'resume':
        if (this.running && this.control.resume()) this.setState('running');
        return;
      case 'step':
        if (this.running) this.control.step();
        return;
      case 'stop':
        if (this.running) this.control.stop();
        return;
      case 'setLambda':
        if (this.driver) this.driver.liveLambda = cmd.lambda;
        this.config.lambda = cmd.lambda;
        return;
      case 'fold':
        return this.reportFold(cmd.lambda, cmd.id);
      case 'export':
        return this.exportModel(cmd.lambda, cmd.format, cmd.id);
      case 'importModel':
        return this.importModel(cmd.fileName, cmd.json, cmd.weights, cmd.id);
      case 'restore':
        return this.post(await this.sessions.restoredEvent(this.running !== null, cmd.id));
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
      this.postReady(await this.selection, id);
    } catch (e) {
      this.selection = null;
      this.error('backend-failed', errorMessage(e), false, id);
    }
  }

  private postReady(s: BackendSelection, id?: string): void {
    this.backend = s.backend;
    this.post({
      type: 'ready', v: PROTOCOL_VERSION, backend: s.backend, refused: s.refused, smoke: s.smoke,
      ...(id !== undefined ? { id } : {}), ...(s.adapterInfo ? { adapterInfo: s.adapterInfo } : {}), ...(s.limits ? { limits: s.limits } : {}),
      ...(s.wasm ? { wasm: s.wasm } : {}),
    });
  }

  /**
   * The device broke (WebGPU device lost / uncaptured error): report it, stop the run, switch to the
   * next backend of the policy (recovery.ts), rebuild the data there and continue the run from its
   * last saved stage.
   */
  onBackendLost(message: string): void {
    const code = /lost/i.test(message) ? 'gpu-device-lost' : 'gpu-uncaptured-error';
    this.error(code, `${message}; restarting on the next backend from the last saved stage`, true);
    this.backendLost = message;
    if (this.running) this.control.stop(); else void this.recoverBackend(null);
  }

  private async recoverBackend(resume: RunRecord | null): Promise<void> {
    const { preference, exclude } = recoveryChoice(this.backend);
    this.backendLost = null;
    // tensors on the broken device cannot be trusted: free what can be freed, rebuild on the next backend
    try { this.dispose(); } catch { /* a lost device may refuse even that */ }
    this.experiment = null;
    this.experimentSession = '';
    this.evalSets = [];
    this.selection = this.deps.selectBackend(preference, (m) => this.onBackendLost(m), exclude);
    try {
      this.postReady(await this.selection);
    } catch (e) {
      this.error('backend-failed', errorMessage(e), false);
      return;
    }
    if (resume) this.startRun(resume, false);
  }

  // -------------------------------------------------------------------------------------------
  // data

  private async loadScenario(spec: ScenarioSpec, id?: string): Promise<void> {
    let tasks: Task[];
    try {
      tasks = await this.datasets.scenarioTasks(spec);
    } catch (e) {
      return this.error(e instanceof UnknownScenario ? 'bad-field' : 'bad-file', errorMessage(e), true, id);
    }
    this.setTasks(spec, tasks, id);
  }

  private loadCustom(files: CustomTaskFiles[], seed: number, trainLimit: number | null, id?: string): void {
    let tasks: Task[];
    try {
      tasks = customTasks(files, seed, trainLimit);
    } catch (e) {
      return this.error('bad-file', errorMessage(e), true, id);
    }
    this.setTasks({ scenario: 'custom', seed, trainLimit, testLimit: null }, tasks, id);
  }

  private setTasks(spec: ScenarioSpec, tasks: Task[], id?: string): void {
    this.spec = spec;
    this.tasks = tasks;
    this.dispose();
    this.points.clear();
    this.post({
      type: 'scenarioLoaded', v: PROTOCOL_VERSION, scenario: spec.scenario, ...(id !== undefined ? { id } : {}),
      tasks: tasks.map((t) => {
        const n = Math.min(SCENARIO_SAMPLES, t.test.count);
        return {
          id: t.id, name: t.name, classNames: t.classNames, trainCount: t.train.count, testCount: t.test.count,
          sampleImages: sampleImages(t, n), sampleLabels: [...t.test.labels.slice(0, n)],
        };
      }),
    });
  }

  private disposeEvalSets(): void {
    for (const d of this.evalSets) disposeResident(d);
    this.evalSets = [];
  }

  private sessionOf(spec: ScenarioSpec, c: RunConfig): string {
    return sessionKey(spec, c, (this.tasks ?? []).map((t) => t.name));
  }

  /** The experiment of `run`'s session: reuses the current one, else builds one and restores saved stages. */
  private async experimentFor(run: RunRecord): Promise<Experiment> {
    if (this.experiment && this.experimentSession === run.session) return this.experiment;
    this.experiment?.dispose();
    const exp = new Experiment(this.tasks as Task[], experimentOptionsOf(run.config, this.deps.reportIntervalMs));
    this.experiment = exp;
    this.experimentSession = run.session;
    const source = await this.sessions.net(run.session, 'source');
    if (source) await exp.adoptSource(deserializeNet(source));
    const ft = await this.sessions.net(run.session, 'finetune1');
    if (source && ft) exp.adoptFirstFinetuned(deserializeNet(ft));
    this.points = await this.sessions.points(run.session);
    return exp;
  }

  /** Runs a storage write of the run; a failure (quota) is reported once per run and the run goes on. */
  private async persist(what: string, write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (e) {
      if (this.storageWarned) return;
      this.storageWarned = true;
      this.error('storage-failed', `could not save ${what} (${errorMessage(e)}); the run goes on, but a reload will not restore it`, true);
    }
  }

  private async resumeInterrupted(id?: string): Promise<void> {
    const current = await this.sessions.current();
    if (!current) return this.error('not-ready', 'there is no interrupted run to resume', true, id);
    if (current.scenario === 'custom') return this.error('not-ready', 'a custom-scenario run cannot be resumed after a reload: load the IDX files again and run', true, id);
    const spec = { scenario: current.scenario, seed: current.seed, trainLimit: current.trainLimit, testLimit: current.testLimit };
    const loaded = (): boolean => this.tasks !== null && JSON.stringify(this.spec) === JSON.stringify(spec);
    if (!loaded()) await this.loadScenario(spec, id);
    // a failed load has posted its error; the tasks held before belong to another scenario
    if (!loaded()) return;
    this.config = structuredClone(current.config);
    this.startRun(current, current.single ?? false);
  }

  // -------------------------------------------------------------------------------------------
  // runs

  /**
   * Runs `run` once per seed of `run.config.seeds` (default: its one `seed`), each seed its own
   * session (the session key holds the seed): finished points of every seed are reported as mean
   * ± sd over the seeds so far (seedRuns.ts). Stop ends the run in whichever seed it is.
   */
  private startRun(run: RunRecord, single: boolean): void {
    const seeds = run.config.seeds ?? [run.config.seed];
    run.session = this.sessionOf(run, { ...run.config, seed: seeds[0] });
    this.control.reset();
    this.storageWarned = false;
    const body = async () => {
      let failed = false;
      this.setState('running', `${run.mode} run`);
      const results = new SeedResults(seeds);
      const clock = new SeedClock(seeds.length);
      try {
        for (const [index, seed] of seeds.entries()) {
          run.config.seed = seed;
          run.session = this.sessionOf(run, run.config);
          clock.startSeed();
          const experiment = await this.experimentFor(run);
          if (this.evalSets.length === 0) this.evalSets = experiment.tasks.map((t) => makeResident(subset(t.test, this.deps.evalSubset)));
          // points this seed finished before (a resumed run): counted; over several seeds, reported again
          // as means over the seeds so far (one seed: the page already has them as they are)
          for (const [key, p] of this.points) results.set(seed, key, p.event);
          const restored = this.points.size;
          if (restored && seeds.length > 1) {
            for (const key of results.keys()) this.post(results.pointEvent(key));
            this.post(results.criteriaEvent());
          }
          const prefix = seeds.length > 1 ? `seed ${seed} (${index + 1} of ${seeds.length}) · ` : '';
          this.driver = new RunDriver({
            run, single, experiment, tasks: this.tasks as Task[], evalSets: this.evalSets, points: this.points, control: this.control,
            throttle: new ReportThrottle(this.deps.reportIntervalMs, this.deps.evalEveryMs), sessions: this.sessions,
            post: (e) => this.post(e), setDetail: (d) => this.setState('running', `${prefix}${d}`), persist: (what, write) => this.persist(what, write),
            seeds: { index, results, clock },
          });
          await this.driver.execute();
          clock.finishSeed(restored === 0);
        }
      } catch (e) {
        if (!(e instanceof StopSignal)) {
          failed = true;
          this.error('internal', `the run failed: ${errorMessage(e)}`, true);
        }
      }
      this.driver = null;
      const lost = this.backendLost !== null;
      const stopped = this.control.stopRequested;
      const outcome: RunOutcome = lost ? 'backend-lost' : stopped ? 'stopped' : failed ? 'failed' : 'finished';
      await this.sessions.finish(run, outcome);
      this.setState(failed ? 'error' : lost || stopped ? 'idle' : 'done', failed ? 'the run failed' : stopped ? 'stopped' : 'finished');
      this.running = null;
      if (lost) await this.recoverBackend(run);
    };
    this.running = body();
  }

  // -------------------------------------------------------------------------------------------
  // fold / export / import

  /** The finished ResCL point at λ (loading the saved points after a reload), or an error event and null. */
  private async resclPoint(lambda: number, id?: string): Promise<PointRecord | null> {
    if (this.points.size === 0 && this.spec && this.tasks) {
      // after a reload: the saved points of the loaded scenario with the current settings
      this.points = await this.sessions.points(this.sessionOf(this.spec, this.config));
    }
    const point = [...this.points.values()].find((p) => p.event.method === 'rescl' && p.event.knob !== null && sameLambda(p.event.knob, lambda));
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
    this.post({ ...foldReportEvent(lambda, point.fold), ...(id !== undefined ? { id } : {}) });
  }

  private async exportModel(lambda: number, format: 'tfjs' | 'json', id?: string): Promise<void> {
    const point = await this.resclPoint(lambda, id);
    if (!point?.folded) return;
    const files = await exportFiles(point.folded, format, this.tasks ?? [], {
      scenario: this.spec?.scenario ?? 'unknown', net: this.config.net, seed: this.config.seed, lambda,
      accByTask: point.event.accByTask, foldMaxAbsDiff: point.event.foldMaxAbsDiff ?? null, paramCount: point.event.paramCount,
      comparison: comparisonOf(this.config),
    });
    this.post({ type: 'exportArtifacts', v: PROTOCOL_VERSION, format, files, ...(id !== undefined ? { id } : {}) }, files.map((f) => f.data));
  }

  private async importModel(fileName: string, json: string, weights: ArrayBuffer | undefined, id?: string): Promise<void> {
    if (!this.tasks) return this.error('not-ready', 'load a scenario before importing a model (it is evaluated on the scenario\'s test sets)', true, id);
    const tasks = this.tasks;
    const { paramCount, accByTask } = await evaluateImported(fileName, json, weights, tasks);
    this.post({ type: 'importResult', v: PROTOCOL_VERSION, fileName, tasks: tasks.map((t) => t.id), paramCount, accByTask, ...(id !== undefined ? { id } : {}) });
  }
}
