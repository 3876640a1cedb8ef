/**
 * Engine connection state: which backend the worker got, why others were refused, and errors.
 * The UI reads this store; only the store talks to the engine client (ui -> store -> engine/client).
 * The full lab will add config/run/metrics slices next to this one.
 */
import { create } from 'zustand';
import { createEngineClient, type EngineClient } from '../engine/client';
import type { BackendPreference, EngineErrorEvent, EngineEvent, ReadyEvent } from '../engine/protocol';

export type {
  BackendName,
  BackendPreference,
  BackendRefusal,
  BackendSmoke,
  EngineErrorEvent,
  GpuAdapterSummary,
  ReadyEvent,
} from '../engine/protocol';

export type EngineStatus = 'idle' | 'starting' | 'ready' | 'failed';

export interface EngineState {
  status: EngineStatus;
  /** What was asked for in `hello`. */
  requested: BackendPreference | null;
  /** The worker's answer to `hello`. */
  ready: ReadyEvent | null;
  /** Every error event, oldest first. */
  errors: EngineErrorEvent[];
  /** Starts the worker and sends `hello` (no-op if already started). */
  start: (preference: BackendPreference) => void;
  /** Terminates the worker. */
  stop: () => void;
}

/** The client is not state (not serialisable, never rendered), so it lives beside the store. */
let client: EngineClient | null = null;

export const useEngineStore = create<EngineState>()((set) => ({
  status: 'idle',
  requested: null,
  ready: null,
  errors: [],
  start: (preference) => {
    if (client) return;
    const c = createEngineClient();
    client = c;
    set({ status: 'starting', requested: preference, ready: null, errors: [] });
    c.subscribe((event: EngineEvent) => {
      if (client !== c) return; // a stopped client's late events
      switch (event.type) {
        case 'ready':
          set({ status: 'ready', ready: event });
          return;
        case 'error':
          set((s) => ({
            errors: [...s.errors, event],
            status: event.recoverable ? s.status : 'failed',
          }));
          return;
      }
    });
    c.send({ type: 'hello', id: 'hello', backend: preference });
  },
  stop: () => {
    client?.terminate();
    client = null;
    set({ status: 'idle' });
  },
}));
