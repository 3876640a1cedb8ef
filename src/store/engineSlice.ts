/**
 * Engine slice: the worker connection's state (which backend was asked for, what `ready` said)
 * and starting, stopping and switching the worker. Every event from the worker enters the store here.
 *
 * A worker that crashes after it was ready (`worker-crashed`: an uncaught error in the worker) is
 * replaced: the store terminates it and starts a fresh one with the same backend preference. The
 * page keeps its finished results and chart data (`afterWorkerCrash`), and the fresh worker's
 * `restored` event brings the run it cut short as `interrupted`: the same resume offer as after a
 * reload. A worker that crashes before it is ready, or a replacement that crashes
 * MAX_WORKER_REPLACEMENTS times in a row without finishing anything, is not replaced (status 'failed').
 */
import type { BackendPreference, EngineErrorEvent, EngineEvent, ReadyEvent } from '../engine/protocol';
import { saveFiles } from './downloads';
import { INITIAL_LAB_DATA, afterWorkerCrash, reduceEvent } from './labModel';
import type { LabState, SliceContext } from './state';

export type EngineStatus = 'idle' | 'starting' | 'ready' | 'failed';

/** Crashed workers replaced in a row (without a loaded scenario or a finished result between them) before the store gives up. */
export const MAX_WORKER_REPLACEMENTS = 3;

export interface EngineSlice {
  status: EngineStatus;
  requested: BackendPreference | null;
  ready: ReadyEvent | null;
  /** Starts the worker (hello), then asks for saved results and loads the scenario. */
  start: (preference?: BackendPreference) => void;
  stop: () => void;
  /** Restarts the worker on another backend (results come back from IndexedDB). */
  changeBackend: (preference: BackendPreference) => void;
}

export function createEngineSlice({ set, get, connection }: SliceContext): EngineSlice {
  /** replacements since the engine last finished something (a crash loop stops at MAX_WORKER_REPLACEMENTS) */
  let crashesInARow = 0;
  /** the fresh worker's `restored` brings back this page's own results: not "restored from an earlier session" */
  let restoreAfterCrash = false;

  /** A crashed worker: replaced when it had been ready (see the file's comment), else the engine has failed. */
  const onCrash = (event: EngineErrorEvent): void => {
    const s = get();
    if (s.status !== 'ready' || crashesInARow >= MAX_WORKER_REPLACEMENTS) {
      set((st: LabState) => ({ status: 'failed', ...reduceEvent(st, event) }));
      return;
    }
    crashesInARow++;
    const preference = s.requested ?? s.setup.backend;
    connection.close(); // the crashed worker may still be alive and training: nothing of it may reach the page
    set((st: LabState) => ({ status: 'idle', ...afterWorkerCrash(st, event, preference) }));
    restoreAfterCrash = true;
    get().start(preference);
  };

  const onEvent = (event: EngineEvent): void => {
    switch (event.type) {
      case 'ready':
        set({ status: 'ready', ready: event });
        connection.send({ type: 'restore' });
        if (get().dataSource === 'bundled') void get().loadScenario();
        return;
      case 'error':
        if (event.code === 'worker-crashed') return onCrash(event);
        if (!event.recoverable) set({ status: 'failed' });
        break;
      case 'exportArtifacts':
        saveFiles(event);
        break;
      case 'scenarioLoaded':
      case 'tradeoffPoint':
        crashesInARow = 0;
        break;
      case 'restored':
        if (restoreAfterCrash) {
          restoreAfterCrash = false;
          set((s: LabState) => ({ ...reduceEvent(s, event), restoredCount: s.restoredCount }));
          return;
        }
        break;
      default:
        break;
    }
    set((s: LabState) => reduceEvent(s, event));
  };

  return {
    status: 'idle',
    requested: null,
    ready: null,
    start: (preference) => {
      if (connection.isOpen) return;
      const pref = preference ?? get().setup.backend;
      connection.open(onEvent);
      set({ status: 'starting', requested: pref, ready: null, loadedKey: null });
      connection.send({ type: 'hello', id: 'hello', backend: pref });
    },
    stop: () => {
      connection.close();
      restoreAfterCrash = false;
      set({ status: 'idle', loadedKey: null });
    },
    changeBackend: (preference) => {
      get().setSetup({ backend: preference });
      get().stop();
      set({ ...INITIAL_LAB_DATA, sliderLambda: get().sliderLambda });
      get().start(preference);
    },
  };
}
