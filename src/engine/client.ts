/**
 * Main-thread side of the engine: starts the worker, stamps and sends typed commands, fans worker
 * events out to subscribers, and owns requests (a command and the event that answers it) as
 * promises that always settle. Imports no tfjs (the worker does that), so the store can use it.
 *
 * A request is answered by the first event with its id, or without an id and of the `answers`
 * type. It rejects with an `EngineRequestError` when that event is an `error`, when the engine
 * reports a non-recoverable error or the worker crashes, when the client is terminated, or when no
 * answer came within its timeout. Nothing waits forever.
 */
import { PROTOCOL_VERSION, makeError } from './protocol';
import type { EngineCommand, EngineErrorEvent, EngineEvent, OutgoingCommand } from './protocol';

export type EngineListener = (event: EngineEvent) => void;

/** Why a request failed. */
export type RequestFailure = 'error' | 'failed' | 'terminated' | 'timeout';

/** A request that did not get its answer; `event` is the engine's error event where there was one. */
export class EngineRequestError extends Error {
  constructor(message: string, readonly reason: RequestFailure, readonly event?: EngineErrorEvent) {
    super(message);
    this.name = 'EngineRequestError';
  }
}

/** How long a request waits for its answer by default (loading the full MNIST files can take a while). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 180_000;

export interface RequestOptions {
  /** ms to wait for the answer (default: the client's `requestTimeoutMs`) */
  timeoutMs?: number;
}

export interface EngineClient {
  /** Sends a command; `v` is added here, and an id (`c1`, `c2`, ...) unless it has one. Returns the id. */
  send(command: OutgoingCommand): string;
  /**
   * Sends a command and resolves with the event that answers it (see the file's comment);
   * rejects with an `EngineRequestError` otherwise. Always settles.
   */
  request(command: OutgoingCommand, answers: EngineEvent['type'], options?: RequestOptions): Promise<EngineEvent>;
  /** Subscribes to every event from the worker; returns the unsubscribe function. */
  subscribe(listener: EngineListener): () => void;
  /** Stops the worker and rejects every pending request. The client cannot be used afterwards. */
  terminate(): void;
  /** How many requests wait for an answer. */
  readonly pending: number;
}

export interface EngineClientOptions {
  /** For tests: build a different worker (default: the bundled engine.worker.ts as a module worker). */
  createWorker?: () => Worker;
  /** Default timeout of a request in ms (default DEFAULT_REQUEST_TIMEOUT_MS). */
  requestTimeoutMs?: number;
}

interface Pending {
  id: string;
  answers: EngineEvent['type'];
  type: string;
  resolve: (event: EngineEvent) => void;
  reject: (error: EngineRequestError) => void;
  timer: ReturnType<typeof setTimeout>;
}

export function createEngineClient(options: EngineClientOptions = {}): EngineClient {
  const worker = options.createWorker?.()
    ?? new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'rescl-engine' });
  const defaultTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const listeners = new Set<EngineListener>();
  const pending = new Map<string, Pending>();
  let nextId = 1;
  let terminated = false;

  const settle = (p: Pending): void => {
    clearTimeout(p.timer);
    pending.delete(p.id);
  };
  const rejectAll = (error: (p: Pending) => EngineRequestError): void => {
    for (const p of [...pending.values()]) {
      settle(p);
      p.reject(error(p));
    }
  };

  const answer = (event: EngineEvent): void => {
    for (const p of [...pending.values()]) {
      if (event.id === p.id) {
        settle(p);
        if (event.type === 'error') p.reject(new EngineRequestError(`${p.type} failed: ${event.message}`, 'error', event));
        else p.resolve(event);
      } else if (event.id === undefined && event.type === p.answers) {
        settle(p);
        p.resolve(event);
      }
    }
    if (event.type === 'error' && !event.recoverable) {
      rejectAll((p) => new EngineRequestError(`${p.type} failed: the engine stopped (${event.message})`, 'failed', event));
    }
  };

  const emit = (event: EngineEvent): void => {
    answer(event);
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

  const send = (command: OutgoingCommand): string => {
    if (terminated) throw new Error('engine client was terminated');
    const id = command.id ?? `c${nextId++}`;
    const stamped = { ...command, id, v: PROTOCOL_VERSION } as EngineCommand;
    worker.postMessage(stamped);
    return id;
  };

  return {
    send,
    request(command, answers, requestOptions = {}) {
      return new Promise<EngineEvent>((resolve, reject) => {
        if (terminated) {
          reject(new EngineRequestError(`${command.type} not sent: the engine client was terminated`, 'terminated'));
          return;
        }
        const id = command.id ?? `c${nextId++}`;
        if (pending.has(id)) {
          reject(new EngineRequestError(`${command.type} not sent: a request with id "${id}" is already waiting`, 'error'));
          return;
        }
        const timeoutMs = requestOptions.timeoutMs ?? defaultTimeout;
        const p: Pending = {
          id, answers, type: command.type, resolve, reject,
          timer: setTimeout(() => {
            settle(p);
            reject(new EngineRequestError(`the engine did not answer ${command.type} (${id}) within ${Math.round(timeoutMs / 1000)} s`, 'timeout'));
          }, timeoutMs),
        };
        pending.set(id, p);
        try {
          send({ ...command, id } as OutgoingCommand);
        } catch (e) {
          settle(p);
          reject(new EngineRequestError(`${command.type} could not be sent: ${e instanceof Error ? e.message : String(e)}`, 'error'));
        }
      });
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    terminate() {
      if (terminated) return;
      terminated = true;
      listeners.clear();
      worker.terminate();
      rejectAll((p) => new EngineRequestError(`${p.type} cancelled: the engine was stopped`, 'terminated'));
    },
    get pending() {
      return pending.size;
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
