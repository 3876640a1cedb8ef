/**
 * The engine worker: a thin adapter. It builds the `Engine` (engine.ts) with the worker's
 * postMessage, a fetch of the bundled data files, IndexedDB storage and the real backend selection
 * (with the tfjs-wasm binaries' same-origin URLs), then forwards every message to it. One
 * long-lived dedicated worker, one message listener.
 */
/// <reference lib="webworker" />
import { registerFastKernels } from '../kernels';
import { selectBackend } from './backend';
import { Engine } from './engine';
import { makeError, type EngineEvent } from './protocol';
import { IndexedDbStorage, MemoryStorage, type EngineStorage } from './storage';
import { WASM_BINARY_URLS } from './wasmBinaries';

declare const self: DedicatedWorkerGlobalScope;

function post(event: EngineEvent, transfer?: Transferable[]): void {
  self.postMessage(event, transfer ?? []);
}

/**
 * Fetches a prepared data file from this origin. Chromium fails a fetch of a large body that another
 * request is writing to its HTTP cache at the same moment ("Failed to fetch", seen with the 47 MB
 * training images when two engines or two tabs load them together), so a failed fetch is retried,
 * bypassing the cache, up to three times.
 */
async function fetchBytes(path: string): Promise<ArrayBuffer> {
  const url = new URL(`/data/${path}`, self.location.origin);
  let lastError: unknown = null;
  for (let attempt = 0; attempt < 4; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, 250 * attempt));
    try {
      const response = await fetch(url, attempt === 0 ? {} : { cache: 'no-store' });
      if (!response.ok) throw new Error(`GET /data/${path}: HTTP ${response.status}`);
      return await response.arrayBuffer();
    } catch (e) {
      lastError = e;
      if (e instanceof Error && e.message.startsWith('GET ')) throw e; // the server answered: no retry
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
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
  // After every (re)selection, the lab's faster kernels replace tfjs's slow ones on that backend
  // (conv filter/input gradients, MaxPoolGrad, ...; see src/kernels/README.md). On wasm they are
  // what lets a convnet train at all: tfjs-wasm has no Conv2DBackpropFilter of its own.
  selectBackend: async (preference, onFatal, exclude) => {
    const selection = await selectBackend(preference, { onFatalGpuError: onFatal, wasmPaths: WASM_BINARY_URLS, exclude });
    const kernels = registerFastKernels(selection.backend);
    if (selection.wasm) {
      console.info(`[engine] tfjs-wasm: ${selection.wasm.binary}, ${selection.wasm.threads} thread(s); lab kernels: ${kernels.join(', ')}`);
    }
    return selection;
  },
});

self.addEventListener('message', (msg: MessageEvent<unknown>) => {
  void engine.handle(msg.data);
});

self.addEventListener('unhandledrejection', (event: PromiseRejectionEvent) => {
  const reason: unknown = event.reason;
  post(makeError('internal', `unhandled rejection in engine worker: ${reason instanceof Error ? reason.message : String(reason)}`, false));
});
