/**
 * The lab's one Zustand store, in slices:
 * - engine:  the worker connection (which backend it got, why others were refused)
 * - setup:   what the next run will do (mirrored in the URL, see urlConfig.ts)
 * - lab:     run state, stages, curves, results, errors (LabData, changed only by `reduceEvent`)
 * - actions: the only place that sends commands to the engine client (ui → store → engine/client).
 */
import { create } from 'zustand';
import { METHOD_KNOBS, type MethodName } from '../core/names';
import { createEngineClient, type EngineClient } from '../engine/client';
import type {
  BackendPreference, CustomTaskFiles, EngineErrorEvent, EngineEvent, ExportArtifactsEvent, OutgoingCommand, ReadyEvent, RunConfig,
} from '../engine/protocol';
import { INITIAL_LAB_DATA, hasResclPointAt, nearestResclPoint, reduceEvent, type LabData } from './labModel';
import { clampLambda } from '../core/lambda';
import { formatSetup, parseSetup, type SetupConfig } from './urlConfig';

export type EngineStatus = 'idle' | 'starting' | 'ready' | 'failed';

/** Training settings the UI does not expose (lab defaults; see docs/METHOD.md). */
export const FIXED_TRAINING = {
  batchSize: 64,
  learningRate: 1e-3,
  alphaLearningRate: 1e-2,
  weightDecay: 1e-4,
  headWarmupSteps: 20,
} as const;

/** The RunConfig the engine gets for a setup. */
export function runConfigOf(setup: SetupConfig): RunConfig {
  const sweep: RunConfig['sweep'] = {};
  for (const m of setup.methods) {
    const knob = METHOD_KNOBS[m];
    if (knob) sweep[m] = [...knob.defaults];
  }
  return { net: setup.net, epochs: setup.epochs, seed: setup.seed, lambda: setup.lambda, methods: [...setup.methods], sweep, ...FIXED_TRAINING };
}

/** Where the tasks of the next run come from. */
export type DataSource = 'bundled' | 'custom';

export interface EngineSlice {
  status: EngineStatus;
  requested: BackendPreference | null;
  ready: ReadyEvent | null;
}

export interface SetupSlice {
  setup: SetupConfig;
  /** what the URL asked for that was changed */
  urlNotices: string[];
  dataSource: DataSource;
  /** `scenario|seed|trainLimit` of the tasks the engine holds ('custom' for user files) */
  loadedKey: string | null;
  loading: boolean;
}

export interface LabActions {
  /** Starts the worker (hello), then asks for saved results and loads the scenario. */
  start: (preference?: BackendPreference) => void;
  stop: () => void;
  setSetup: (patch: Partial<SetupConfig>) => void;
  setDataSource: (source: DataSource) => void;
  /** Restarts the worker on another backend (results come back from IndexedDB). */
  changeBackend: (preference: BackendPreference) => void;
  loadScenario: () => Promise<boolean>;
  loadCustom: (tasks: CustomTaskFiles[]) => Promise<boolean>;
  runFull: () => Promise<void>;
  pause: () => void;
  resume: () => void;
  step: () => void;
  stopRun: () => void;
  /** Moves the slider: the nearest finished network is shown at once. */
  selectLambda: (lambda: number) => void;
  /** Letting go of the slider: trains a network at λ when there is none. */
  commitLambda: (lambda: number) => void;
  exportModel: (format: 'tfjs' | 'json') => void;
  importFiles: (files: File[]) => Promise<void>;
  clearSaved: () => void;
  /**
   * Resumes the run a reload or crash interrupted (`interrupted`), from its last finished stage;
   * the page's setup (and URL) become that run's.
   */
  resumeInterrupted: () => void;
  /** Hides the interrupted-run notice (the record stays until the next run replaces it). */
  dismissInterrupted: () => void;
  /** Adds an error found on the UI side (e.g. a bad IDX file before it is sent). */
  reportError: (code: EngineErrorEvent['code'], message: string) => void;
  dismissErrors: () => void;
}

export type LabState = EngineSlice & SetupSlice & LabData & LabActions;

/** The client is not state (never rendered, not serialisable), so it lives beside the store. */
let client: EngineClient | null = null;
let nextId = 1;
type Waiter = { match: (e: EngineEvent) => boolean; resolve: (e: EngineEvent) => void };
const waiters = new Set<Waiter>();

/** Saves export files as downloads. */
function saveFiles(event: ExportArtifactsEvent): void {
  for (const f of event.files) {
    const url = URL.createObjectURL(new Blob([f.data], { type: f.mimeType }));
    const a = document.createElement('a');
    a.href = url;
    a.download = f.name;
    a.style.display = 'none';
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}

function send(command: OutgoingCommand): string {
  const id = command.id ?? `c${nextId++}`;
  client?.send({ ...command, id } as OutgoingCommand);
  return id;
}

/** Sends a command and waits for the event that answers it (same id, or `answers` of that type). */
function request(command: OutgoingCommand, answers: EngineEvent['type']): Promise<EngineEvent> {
  const id = `c${nextId++}`;
  return new Promise((resolve) => {
    waiters.add({ match: (e) => e.id === id || (e.id === undefined && e.type === answers), resolve });
    send({ ...command, id } as OutgoingCommand);
  });
}

function keyOf(setup: SetupConfig): string {
  return `${setup.scenario}|${setup.seed}|${setup.trainLimit ?? 'all'}`;
}

function writeUrl(setup: SetupConfig): void {
  if (typeof window === 'undefined' || typeof history === 'undefined') return;
  history.replaceState(history.state, '', `${window.location.pathname}${formatSetup(setup, window.location.search)}${window.location.hash}`);
}

const initialUrl = typeof window === 'undefined' ? { config: parseSetup('').config, notices: [] } : parseSetup(window.location.search);

/** Whether an interrupted run can be resumed now: the engine is ready, loading nothing, running nothing. */
export function canResumeInterrupted(s: LabState): boolean {
  return s.interrupted !== null && s.status === 'ready' && !s.loading && !['running', 'paused'].includes(s.runState);
}

export const useLabStore = create<LabState>()((set, get) => {
  const busy = (): boolean => ['running', 'paused'].includes(get().runState);

  const onEvent = (event: EngineEvent): void => {
    for (const w of [...waiters]) {
      if (w.match(event)) {
        waiters.delete(w);
        w.resolve(event);
      }
    }
    switch (event.type) {
      case 'ready':
        set({ status: 'ready', ready: event });
        send({ type: 'restore' });
        if (get().dataSource === 'bundled') void get().loadScenario();
        return;
      case 'error':
        if (!event.recoverable) set({ status: 'failed' });
        break;
      case 'exportArtifacts':
        saveFiles(event);
        break;
      default:
        break;
    }
    set((s) => reduceEvent(s, event));
  };

  const prepare = async (): Promise<boolean> => {
    const s = get();
    if (s.dataSource === 'custom') return s.loadedKey === 'custom';
    if (s.loadedKey === keyOf(s.setup)) return true;
    return get().loadScenario();
  };

  return {
    status: 'idle',
    requested: null,
    ready: null,
    setup: initialUrl.config,
    urlNotices: initialUrl.notices,
    dataSource: 'bundled',
    loadedKey: null,
    loading: false,
    ...INITIAL_LAB_DATA,
    sliderLambda: initialUrl.config.lambda,

    start: (preference) => {
      if (client) return;
      const pref = preference ?? get().setup.backend;
      const c = createEngineClient();
      client = c;
      set({ status: 'starting', requested: pref, ready: null, loadedKey: null });
      c.subscribe((event) => {
        if (client === c) onEvent(event);
      });
      send({ type: 'hello', id: 'hello', backend: pref });
    },
    stop: () => {
      client?.terminate();
      client = null;
      waiters.clear();
      set({ status: 'idle', loadedKey: null });
    },
    setSetup: (patch) => {
      const setup = { ...get().setup, ...patch };
      if (patch.lambda !== undefined) setup.lambda = clampLambda(patch.lambda);
      set({ setup });
      writeUrl(setup);
    },
    setDataSource: (dataSource) => set({ dataSource }),
    changeBackend: (preference) => {
      get().setSetup({ backend: preference });
      get().stop();
      set({ ...INITIAL_LAB_DATA, sliderLambda: get().sliderLambda });
      get().start(preference);
    },
    loadScenario: async () => {
      const { setup } = get();
      if (get().status !== 'ready' || busy()) return false;
      const key = keyOf(setup);
      set({ loading: true });
      const answer = await request(
        { type: 'loadScenario', scenario: setup.scenario, seed: setup.seed, trainLimit: setup.trainLimit, testLimit: null },
        'scenarioLoaded',
      );
      const ok = answer.type === 'scenarioLoaded';
      set({ loading: false, ...(ok ? { loadedKey: key } : {}) });
      return ok;
    },
    loadCustom: async (tasks) => {
      if (get().status !== 'ready' || busy()) return false;
      set({ loading: true });
      const answer = await request({ type: 'loadCustom', tasks, seed: get().setup.seed, trainLimit: get().setup.trainLimit }, 'scenarioLoaded');
      const ok = answer.type === 'scenarioLoaded';
      set({ loading: false, ...(ok ? { loadedKey: 'custom', dataSource: 'custom' as const } : {}) });
      return ok;
    },
    runFull: async () => {
      if (get().status !== 'ready' || busy()) return;
      if (!(await prepare())) return;
      set({ stages: [], curves: {}, currentStageKey: null, points: [], criteria: {}, liveAlphas: null, alphaTrajectories: {}, foldReports: [], restoredCount: null, trainingLambda: null });
      send({ type: 'configure', config: runConfigOf(get().setup) });
      send({ type: 'run', mode: 'full' });
    },
    pause: () => void send({ type: 'pause' }),
    resume: () => void send({ type: 'resume' }),
    step: () => void send({ type: 'step' }),
    stopRun: () => void send({ type: 'stop' }),
    selectLambda: (lambda) => {
      set({ sliderLambda: lambda });
      get().setSetup({ lambda });
    },
    commitLambda: (lambda) => {
      const s = get();
      if (busy() || s.status !== 'ready' || s.trainingLambda !== null) return;
      if (resclDone(s) === 0 || hasResclPointAt(s.points, lambda)) return;
      set({ trainingLambda: lambda });
      void (async () => {
        if (!(await prepare())) {
          set({ trainingLambda: null });
          return;
        }
        send({ type: 'configure', config: runConfigOf(get().setup) });
        send({ type: 'trainLambda', lambda });
      })();
    },
    exportModel: (format) => {
      const s = get();
      const p = nearestResclPoint(s.points, s.sliderLambda);
      if (!p || p.knob === null) {
        get().reportError('not-ready', 'There is no finished ResCL network to export yet: run the experiment first.');
        return;
      }
      send({ type: 'export', lambda: p.knob, format });
    },
    importFiles: async (files) => {
      const jsonFile = files.find((f) => /\.json$/i.test(f.name)) ?? files[0];
      if (!jsonFile) return;
      const weightsFile = files.find((f) => f !== jsonFile);
      set({ importResult: null });
      let json: string;
      let weights: ArrayBuffer | undefined;
      try {
        json = await jsonFile.text();
        weights = weightsFile ? await weightsFile.arrayBuffer() : undefined;
      } catch (err) {
        get().reportError('bad-file', `${jsonFile.name}: could not be read (${err instanceof Error ? err.message : String(err)})`);
        return;
      }
      if (!(await prepare())) return;
      send({ type: 'importModel', fileName: jsonFile.name, json, ...(weights ? { weights } : {}) });
    },
    clearSaved: () => {
      send({ type: 'clearSaved' });
      set((s) => ({ points: s.points.filter((p) => !p.restored), restoredCount: null, interrupted: null }));
    },
    resumeInterrupted: () => {
      const run = get().interrupted;
      if (!run || !canResumeInterrupted(get())) return;
      if (run.scenario !== 'custom') {
        const { config } = run;
        get().setSetup({
          scenario: run.scenario, net: config.net, epochs: config.epochs, seed: run.seed ?? config.seed,
          trainLimit: run.trainLimit ?? null, lambda: config.lambda,
          methods: config.methods.includes('rescl') ? [...config.methods] : ['rescl', ...config.methods],
        });
        // The engine loads the run's tasks itself. Until a loadScenario of this store confirms
        // them, nothing here claims they are loaded (a later Run loads them again if needed).
        set({ loadedKey: null, dataSource: 'bundled', sliderLambda: get().setup.lambda });
      }
      send({ type: 'resumeInterrupted' });
      set({ interrupted: null });
    },
    dismissInterrupted: () => set({ interrupted: null }),
    reportError: (code, message) => set((s) => ({ errors: [...s.errors, { type: 'error', v: 1, code, message, recoverable: true }] })),
    dismissErrors: () => set({ errors: [] }),
  };
});

function resclDone(s: LabData): number {
  return s.points.filter((p) => p.method === 'rescl').length;
}

/** Methods in the setup that have a knob (their sweeps are drawn as fronts). */
export function knobName(m: MethodName): string | null {
  return METHOD_KNOBS[m]?.knob ?? null;
}
