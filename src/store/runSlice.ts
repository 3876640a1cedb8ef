/**
 * Run slice: starting and steering runs (full run, pause/resume/step/stop, training at a new λ
 * from the slider, resuming an interrupted run). Its state is the lab data the events bring
 * (runState, stages, points: see labSlice.ts); this slice only sends commands.
 */
import { comparisonOf } from '../core/names';
import { hasResclPointAt } from './labModel';
import { runConfigOf } from './setupSlice';
import { isBusy, type LabState, type SliceContext } from './state';

export interface RunSlice {
  runFull: () => Promise<void>;
  pause: () => void;
  resume: () => void;
  step: () => void;
  stopRun: () => void;
  /** Moves the slider: the nearest finished network is shown at once. */
  selectLambda: (lambda: number) => void;
  /** Letting go of the slider: trains a network at λ when there is none. */
  commitLambda: (lambda: number) => void;
  /**
   * Resumes the run a reload or crash interrupted (`interrupted`), from its last finished stage;
   * the page's setup (and URL) become that run's.
   */
  resumeInterrupted: () => void;
  /** Hides the interrupted-run notice (the record stays until the next run replaces it). */
  dismissInterrupted: () => void;
}

/** Whether an interrupted run can be resumed now: the engine is ready, loading nothing, running nothing. */
export function canResumeInterrupted(s: LabState): boolean {
  return s.interrupted !== null && s.status === 'ready' && !s.loading && !isBusy(s);
}

function resclDone(s: Pick<LabState, 'points'>): number {
  return s.points.filter((p) => p.method === 'rescl').length;
}

export function createRunSlice({ set, get, connection }: SliceContext): RunSlice {
  const send = connection.send.bind(connection);
  return {
    runFull: async () => {
      if (get().status !== 'ready' || isBusy(get())) return;
      if (!(await get().prepare())) return;
      set({ stages: [], curves: {}, currentStageKey: null, points: [], criteria: {}, liveAlphas: null, alphaTrajectories: {}, deviceStats: null, foldReports: [], restoredCount: null, trainingLambda: null });
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
      if (isBusy(s) || s.status !== 'ready' || s.trainingLambda !== null) return;
      if (resclDone(s) === 0 || hasResclPointAt(s.points, lambda)) return;
      set({ trainingLambda: lambda });
      void (async () => {
        if (!(await get().prepare())) {
          set({ trainingLambda: null });
          return;
        }
        send({ type: 'configure', config: runConfigOf(get().setup) });
        send({ type: 'trainLambda', lambda });
      })();
    },
    resumeInterrupted: () => {
      const run = get().interrupted;
      if (!run || !canResumeInterrupted(get())) return;
      if (run.scenario !== 'custom') {
        const { config } = run;
        get().setSetup({
          scenario: run.scenario, net: config.net, epochs: config.epochs, batchSize: config.batchSize, seed: run.seed ?? config.seed,
          trainLimit: run.trainLimit ?? null, lambda: config.lambda, seeds: config.seeds ?? [], ...comparisonOf(config),
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
  };
}
