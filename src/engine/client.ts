/**
 * Main-thread side of the engine: starts the worker, stamps and sends typed commands, and fans
 * worker events out to subscribers. Imports no tfjs (the worker does that), so the store can use it.
 */
import { PROTOCOL_VERSION, makeError } from './protocol';
import type { EngineCommand, EngineEvent, OutgoingCommand } from './protocol';

export type EngineListener = (event: EngineEvent) => void;

export interface EngineClient {
  /** Sends a command; `v` is added here. */
  send(command: OutgoingCommand): void;
  /** Subscribes to every event from the worker; returns the unsubscribe function. */
  subscribe(listener: EngineListener): () => void;
  /** Stops the worker. The client cannot be used afterwards. */
  terminate(): void;
}

export interface EngineClientOptions {
  /** For tests: build a different worker (default: the bundled engine.worker.ts as a module worker). */
  createWorker?: () => Worker;
}

export function createEngineClient(options: EngineClientOptions = {}): EngineClient {
  const worker = options.createWorker?.()
    ?? new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'rescl-engine' });
  const listeners = new Set<EngineListener>();
  let terminated = false;

  const emit = (event: EngineEvent): void => {
    for (const listener of [...listeners]) listener(event);
  };

  worker.addEventListener('message', (msg: MessageEvent<EngineEvent>) => emit(msg.data));
  worker.addEventListener('messageerror', () => {
    emit(makeError('bad-message', 'a message from the engine worker could not be deserialised', true));
  });
  worker.addEventListener('error', (event: ErrorEvent) => {
    // Fires when the worker script fails to load or throws at top level.
    event.preventDefault();
    const where = event.filename ? ` (${event.filename}:${event.lineno})` : '';
    emit(makeError('worker-crashed', `engine worker failed: ${event.message || 'script error'}${where}`, false));
  });

  return {
    send(command) {
      if (terminated) throw new Error('engine client was terminated');
      const stamped = { ...command, v: PROTOCOL_VERSION } as EngineCommand;
      worker.postMessage(stamped);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    terminate() {
      terminated = true;
      listeners.clear();
      worker.terminate();
    },
  };
}

/** What the test hook exposes on `window.__resclEngine` (dev builds, or any build with `?e2e` in the URL). */
export interface EngineTestHook {
  /** Starts a separate engine worker (independent of the one the store uses). */
  create: (options?: EngineClientOptions) => EngineClient;
}

declare global {
  interface Window { __resclEngine?: EngineTestHook }
}

// Test-only hook for e2e specs and benchmarks; never installed in a production page without ?e2e.
if (typeof window !== 'undefined' && (import.meta.env.DEV || new URLSearchParams(window.location.search).has('e2e'))) {
  window.__resclEngine = { create: createEngineClient };
}
