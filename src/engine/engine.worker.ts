/**
 * The engine worker: a thin adapter. It builds the `Engine` (engine.ts) with the worker's
 * postMessage, a fetch of the bundled data files, IndexedDB storage and the real backend selection,
 * then forwards every message to it. One long-lived dedicated worker, one message listener.
 */
/// <reference lib="webworker" />
import { selectBackend } from './backend';
import { Engine } from './engine';
import { makeError, type EngineEvent } from './protocol';
import { IndexedDbStorage, MemoryStorage, type EngineStorage } from './storage';

declare const self: DedicatedWorkerGlobalScope;

function post(event: EngineEvent, transfer?: Transferable[]): void {
  self.postMessage(event, transfer ?? []);
}

async function fetchBytes(path: string): Promise<ArrayBuffer> {
  const url = new URL(`/data/${path}`, self.location.origin);
  let response: Response;
  try {
    response = await fetch(url);
  } catch {
    // Chromium fails a fetch whose body does not fit its HTTP cache (ERR_CACHE_WRITE_FAILURE, seen
    // with the 47 MB training images in a fresh headless profile): fetch once more, bypassing the cache.
    response = await fetch(url, { cache: 'no-store' });
  }
  if (!response.ok) throw new Error(`GET /data/${path}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

let storage: EngineStorage;
try {
  storage = new IndexedDbStorage();
} catch {
  storage = new MemoryStorage();
}

const engine = new Engine({
  post,
  fetchBytes,
  storage,
  selectBackend: (preference, onFatal) => selectBackend(preference, { onFatalGpuError: onFatal }),
});

self.addEventListener('message', (msg: MessageEvent<unknown>) => {
  void engine.handle(msg.data);
});

self.addEventListener('unhandledrejection', (event: PromiseRejectionEvent) => {
  const reason: unknown = event.reason;
  post(makeError('internal', `unhandled rejection in engine worker: ${reason instanceof Error ? reason.message : String(reason)}`, false));
});
