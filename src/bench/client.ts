/**
 * Main-thread side of the benchmark: starts bench.worker.ts, sends it the page's query string and
 * hands its events to one listener. Imports no tfjs.
 */
import type { BenchCommand, BenchEvent } from './protocol';

export interface BenchRun {
  /** asks the worker to stop after the current case */
  stop(): void;
  /** ends the worker at once (a case in progress is lost) */
  terminate(): void;
}

/** Starts a benchmark run in a fresh worker; `onEvent` gets every event, then the worker ends itself on done/error. */
export function startBench(search: string, onEvent: (event: BenchEvent) => void): BenchRun {
  const worker = new Worker(new URL('./bench.worker.ts', import.meta.url), { type: 'module', name: 'rescl-bench' });
  const send = (command: BenchCommand): void => worker.postMessage(command);
  worker.addEventListener('message', (msg: MessageEvent<BenchEvent>) => {
    onEvent(msg.data);
    if (msg.data.type === 'done' || msg.data.type === 'error') worker.terminate();
  });
  worker.addEventListener('error', (event: ErrorEvent) => {
    event.preventDefault();
    onEvent({ type: 'error', message: `bench worker failed: ${event.message || 'script error'}` });
    worker.terminate();
  });
  send({ type: 'run', search });
  return { stop: () => send({ type: 'stop' }), terminate: () => worker.terminate() };
}
