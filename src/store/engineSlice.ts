/**
 * Engine slice: the worker connection's state (which backend was asked for, what `ready` said)
 * and starting, stopping and switching the worker. Every event from the worker enters the store here.
 */
import type { BackendPreference, EngineEvent, ReadyEvent } from '../engine/protocol';
import { saveFiles } from './downloads';
import { INITIAL_LAB_DATA, reduceEvent } from './labModel';
import type { LabState, SliceContext } from './state';

export type EngineStatus = 'idle' | 'starting' | 'ready' | 'failed';

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
  const onEvent = (event: EngineEvent): void => {
    switch (event.type) {
      case 'ready':
        set({ status: 'ready', ready: event });
        connection.send({ type: 'restore' });
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
