/**
 * Messages between the `?bench` page and its worker (bench.worker.ts). The page sends its query
 * string; the worker validates it itself, so a bad message gets the same answer as a bad URL.
 */
import type { BenchLine } from './options';

export type BenchCommand =
  | { type: 'run'; search: string }
  | { type: 'stop' };

export type BenchEvent =
  /** the backend is up; `refused` lists backends tried before it, with reasons */
  | { type: 'started'; backend: string; kernels: 'stock' | 'fast'; adapter?: string; cases: number }
  | { type: 'line'; line: BenchLine }
  | { type: 'done'; stopped: boolean }
  | { type: 'error'; message: string };
