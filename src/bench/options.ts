/**
 * The benchmark's options, read from either place it runs: `npm run bench -- --net conv4 ...`
 * (Node) or the page's `?bench&net=conv4...` (the browser). Both hand a name → text record to
 * `parseBenchOptions`, so a bad value gets the same message in both. Imports no tfjs: the bench
 * page's main thread uses it too.
 */
import { NET_KINDS, type NetKind } from '../core/names';

/** Backends the benchmark can run on. `webgl` exists only in a browser. */
export const BENCH_BACKENDS = ['cpu', 'wasm', 'webgpu', 'webgl'] as const;
export type BenchBackend = (typeof BENCH_BACKENDS)[number];

/** 'plain' = the source stage (one network); 'combined' = ResCL's combination stage (two branches + α). */
export const BENCH_STAGES = ['plain', 'combined'] as const;
export type BenchStage = (typeof BENCH_STAGES)[number];

export interface BenchOptions {
  backend: BenchBackend;
  nets: NetKind[];
  stages: BenchStage[];
  /** images per training step */
  batch: number;
  /** timed steps per case (after the warm-up) */
  steps: number;
  /** untimed steps first (shader compilation, allocation) */
  warmup: number;
  /** channel-width multiplier of the networks (1 = the paper's sizes) */
  width: number;
  /** how many of the slowest kernels of the profiled step to list (0 = none) */
  top: number;
  /** keep tfjs's own kernels (the baseline) instead of registering src/kernels' */
  stock: boolean;
  /** also train each case a few steps with tfjs's kernels and with ours and compare the losses */
  check: boolean;
}

/** A bad option: the message names it and what is allowed. */
export class BenchOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchOptionError';
  }
}

/** The option names `parseBenchOptions` knows (flags in Node, URL parameters in the page). */
export const BENCH_OPTION_NAMES = ['backend', 'net', 'stage', 'batch', 'steps', 'warmup', 'width', 'top', 'stock', 'check'] as const;

export const BENCH_USAGE = `npm run bench -- [--backend ${BENCH_BACKENDS.join('|')}] [--net ${NET_KINDS.join(',')}] [--stage ${BENCH_STAGES.join(',')}]
                 [--batch N] [--steps N] [--warmup N] [--width W] [--top N] [--stock] [--check] [--browser]
in a browser: /?bench&backend=webgl&net=mlp,conv4&stage=plain,combined&batch=128&steps=10 (same names)`;

function choiceList<T extends string>(name: string, text: string, allowed: readonly T[]): T[] {
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new BenchOptionError(`${name}: give at least one of ${allowed.join(', ')}`);
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) throw new BenchOptionError(`${name}: unknown value '${item}' (allowed: ${allowed.join(', ')})`);
  }
  return [...new Set(items)] as T[];
}

function numberIn(name: string, text: string | undefined, fallback: number, min: number, max: number, integer: boolean): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new BenchOptionError(`${name} must be ${integer ? 'a whole number' : 'a number'} (got '${text}')`);
  }
  if (value < min || value > max) throw new BenchOptionError(`${name} must be between ${min} and ${max} (got ${value})`);
  return value;
}

/**
 * Validates the raw options. `raw` maps an option name to its text (a missing name takes its
 * default; `stock` is a switch: present and not 'false'/'0' means on). Unknown names throw.
 */
export function parseBenchOptions(raw: Record<string, string | undefined>): BenchOptions {
  for (const name of Object.keys(raw)) {
    if (!(BENCH_OPTION_NAMES as readonly string[]).includes(name)) {
      throw new BenchOptionError(`unknown option '${name}' (known: ${BENCH_OPTION_NAMES.join(', ')})`);
    }
  }
  const backend = raw.backend ?? 'cpu';
  if (!(BENCH_BACKENDS as readonly string[]).includes(backend)) {
    throw new BenchOptionError(`backend must be one of ${BENCH_BACKENDS.join(', ')} (got '${backend}')`);
  }
  const on = (text: string | undefined): boolean => text !== undefined && text !== 'false' && text !== '0';
  const stock = on(raw.stock);
  return {
    backend: backend as BenchBackend,
    nets: choiceList('net', raw.net ?? 'mlp,conv4', NET_KINDS),
    stages: choiceList('stage', raw.stage ?? 'plain,combined', BENCH_STAGES),
    batch: numberIn('batch', raw.batch, 128, 1, 4096, true),
    steps: numberIn('steps', raw.steps, 10, 1, 1000, true),
    warmup: numberIn('warmup', raw.warmup, 2, 0, 100, true),
    width: numberIn('width', raw.width, 1, 0.01, 4, false),
    top: numberIn('top', raw.top, 0, 0, 100, true),
    stock,
    check: on(raw.check),
  };
}

/** Reads the options from a page's query string (`?bench&net=mlp...`); the `bench` marker itself is ignored. */
export function benchOptionsFromSearch(search: string): BenchOptions {
  const raw: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(search)) {
    if (name === 'bench') continue;
    raw[name] = value;
  }
  return parseBenchOptions(raw);
}

/** The query string that reproduces `options` in the page (`?bench&backend=...`). */
export function benchSearch(options: BenchOptions): string {
  const params = new URLSearchParams({
    backend: options.backend, net: options.nets.join(','), stage: options.stages.join(','),
    batch: String(options.batch), steps: String(options.steps), warmup: String(options.warmup),
    width: String(options.width), top: String(options.top),
  });
  if (options.stock) params.set('stock', '1');
  if (options.check) params.set('check', '1');
  return `?bench&${params.toString()}`;
}

/** One line of benchmark output (printed as JSON in Node, shown and logged in the page). */
export type BenchLine = BenchCaseLine | BenchRatioLine | BenchCheckLine;

export interface BenchCaseLine {
  name: string;
  backend: string;
  /** 'node' (npm run bench) or 'browser' (the ?bench page's worker) */
  where: 'node' | 'browser';
  net: NetKind;
  stage: BenchStage;
  batch: number;
  width: number;
  msPerStepMedian: number;
  msPerStepMin: number;
  samplesPerSec: number;
  /** tfjs kernels one training step ran (tf.profile of one step) */
  kernelsPerStep: number;
  /** GPUQueue.submit calls per timed step (webgpu only; null elsewhere) */
  deviceSubmissionsPerStep: number | null;
  /** GPU compute dispatches (tfjs program runs) per timed step (webgpu only; null elsewhere) */
  gpuDispatchesPerStep: number | null;
  /** the dispatches per step by GPU program (webgpu only), most first */
  dispatchesByProgram?: Record<string, number>;
  /** ms of the pipeline warm-up before the first step (every program compiled in parallel; webgpu with the lab's kernels only) */
  compileMs?: number;
  kernels: 'stock' | 'fast';
  topKernels?: KernelTime[];
}

export interface BenchRatioLine {
  name: string;
  backend: string;
  where: 'node' | 'browser';
  /** combined ms/step over plain ms/step */
  ratio: number;
  /** two branches cost ~2x; ≤ 2.2 leaves 10% for the α and the distillation */
  target: number;
}

/** `--check`: the same seeded training steps with tfjs's kernels and with the lab's. */
export interface BenchCheckLine {
  name: string;
  backend: string;
  where: 'node' | 'browser';
  /** losses of the first steps with tfjs's own kernels, then with src/kernels' */
  stockLosses: number[];
  fastLosses: number[];
  /** max over steps of |fast − stock| / max(1, |stock|) */
  maxRelDiff: number;
  /** maxRelDiff ≤ 1e-3 (issue #6's criterion) */
  ok: boolean;
}

/** Time one kernel name took in the profiled step (summed over its calls). */
export interface KernelTime { kernel: string; ms: number; calls: number; slowestMs: number; slowestShapes: string }
