/**
 * The `?bench` page's worker: selects exactly the requested backend (the engine's own selection
 * and smoke test, src/engine/backend.ts), registers src/kernels unless `stock`, and runs
 * src/bench/cases.ts — the code `npm run bench` runs in Node — posting one line per case.
 */
/// <reference lib="webworker" />
import { selectBackend } from '../engine/backend';
import { WASM_BINARY_URLS } from '../engine/wasmBinaries';
import { fastKernelsActive, registerFastKernels } from '../kernels';
import { runBench } from './cases';
import { benchOptionsFromSearch } from './options';
import type { BenchCommand, BenchEvent } from './protocol';

declare const self: DedicatedWorkerGlobalScope;

const post = (event: BenchEvent): void => self.postMessage(event);
let running = false;
let stopRequested = false;

async function run(search: string): Promise<void> {
  const options = benchOptionsFromSearch(search);
  const selection = await selectBackend(options.backend, {
    wasmPaths: WASM_BINARY_URLS, // the .wasm files are served from this origin (Vite ?url assets)
    onFatalGpuError: (message) => post({ type: 'error', message: `WebGPU error: ${message}` }),
  });
  if (selection.backend !== options.backend) {
    const reasons = selection.refused.map((r) => `${r.name}: ${r.reason}`).join('; ');
    throw new Error(`the ${options.backend} backend is not available here (${reasons || 'refused'}); nothing was measured`);
  }
  if (!options.stock) registerFastKernels(selection.backend);
  const adapter = selection.adapterInfo ? [selection.adapterInfo.vendor, selection.adapterInfo.architecture, selection.adapterInfo.description].filter(Boolean).join(' ') : undefined;
  post({ type: 'started', backend: selection.backend, kernels: fastKernelsActive(selection.backend) ? 'fast' : 'stock', adapter, cases: options.nets.length * options.stages.length });
  for await (const line of runBench(options, 'browser', () => stopRequested)) post({ type: 'line', line });
  post({ type: 'done', stopped: stopRequested });
}

self.addEventListener('message', (msg: MessageEvent<BenchCommand>) => {
  const command = msg.data as Partial<BenchCommand> | null;
  if (command?.type === 'stop') {
    stopRequested = true;
    return;
  }
  if (command?.type !== 'run' || typeof command.search !== 'string') {
    post({ type: 'error', message: `unknown bench command: ${JSON.stringify(command)?.slice(0, 200)}` });
    return;
  }
  if (running) {
    post({ type: 'error', message: 'a benchmark is already running in this worker' });
    return;
  }
  running = true;
  run(command.search)
    .catch((e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) }))
    .finally(() => { running = false; });
});
