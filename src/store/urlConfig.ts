/**
 * The run setup as URL query parameters, so that a link reproduces a run:
 *   ?scenario=&net=&methods=a,b&epochs=&batch=&trainLimit=&seed=&seeds=1,2&backend=&lambda=
 * and the comparison settings `npm run repro` has flags for (only where not at their default):
 *   &budget=&jointInit=&init=&fisher=&baselineBn=&combineDecay=   (URL_PARAM_OF_COMPARISON)
 * Defaults: the live settings of core/trainingDefaults.ts.
 * Parsing never throws: a missing value takes its default, an unknown or out-of-range value is
 * replaced (clamped for numbers) and a notice says what was changed.
 */
import {
  COMPARISON_CHOICES, COMPARISON_SETTING_NAMES, DEFAULT_COMPARISON, METHOD_NAMES, NET_KINDS, isComparisonChoice, isMethodName, isNetKind,
  type ComparisonSetting, type ComparisonSettings, type MethodName, type NetKind,
} from '../core/names';
import { clampLambda, LAMBDA_MAX, LAMBDA_MIN } from '../core/lambda';
import { TRAINING_DEFAULTS } from '../core/trainingDefaults';
import { SCENARIOS, isScenarioId, type ScenarioId } from '../data/registry';
import { BACKEND_PREFERENCES, RUN_CONFIG_LIMITS, isBackendPreference, type BackendPreference } from '../engine/protocol';

/** A scenario that a link can name (custom files cannot travel in a URL). */
export type BundledScenarioId = Exclude<ScenarioId, 'custom'>;

/**
 * The setup of a run. Besides the fields below it holds the comparison settings (core/names.ts
 * `COMPARISON_CHOICES`: budget, jointInit, init, fisher, baselineBatchNorm, combineDecay), the
 * ExperimentOptions that `npm run repro` sets by flag.
 */
export interface SetupConfig extends ComparisonSettings {
  scenario: BundledScenarioId;
  net: NetKind;
  /** methods the full run compares; always contains 'rescl' */
  methods: MethodName[];
  epochs: number;
  /** images per training step (URL `batch`) */
  batchSize: number;
  /** training images per task; null = the full split */
  trainLimit: number | null;
  seed: number;
  /**
   * training seeds: the whole plan runs once per seed and results carry mean ± sd (URL `seeds=1,2`);
   * empty: one run with `seed` (which also picks the data subset, for every seed)
   */
  seeds: number[];
  backend: BackendPreference;
  /** the selected λ (0, or 1e-6 … 1e-1) */
  lambda: number;
}

export const TRAIN_LIMIT_RANGE: readonly [number, number] = [100, 60000];
export const EPOCH_RANGE: readonly [number, number] = [RUN_CONFIG_LIMITS.epochs[0], 20];
export const SEED_RANGE: readonly [number, number] = RUN_CONFIG_LIMITS.seed;
export const BATCH_RANGE: readonly [number, number] = RUN_CONFIG_LIMITS.batchSize;

/**
 * Defaults: a complete MNIST → Fashion-MNIST experiment in about a minute on a laptop GPU (the live
 * training settings of core/trainingDefaults.ts; docs/RESULTS.md's studies use its larger ones).
 */
export const DEFAULT_SETUP: SetupConfig = {
  scenario: 'mnist-fashion',
  net: 'mlp',
  methods: [...METHOD_NAMES],
  epochs: TRAINING_DEFAULTS.live.epochs,
  batchSize: TRAINING_DEFAULTS.live.batchSize,
  trainLimit: TRAINING_DEFAULTS.live.trainLimit,
  seed: TRAINING_DEFAULTS.seed,
  seeds: [],
  backend: 'auto',
  lambda: 1e-3,
  ...DEFAULT_COMPARISON,
};

/** The URL parameter of each comparison setting (the repro's flag, in the URL's camelCase). */
export const URL_PARAM_OF_COMPARISON: Record<ComparisonSetting, string> = {
  budget: 'budget', jointInit: 'jointInit', init: 'init', fisher: 'fisher', baselineBatchNorm: 'baselineBn', combineDecay: 'combineDecay',
};

export interface ParsedSetup {
  config: SetupConfig;
  /** one sentence per value that was changed or refused */
  notices: string[];
}

const BUNDLED_IDS = SCENARIOS.map((s) => s.id).filter((id) => id !== 'custom');

function clampNumber(
  name: string, raw: string, [lo, hi]: readonly [number, number], integer: boolean, notices: string[], fallback: number,
): number {
  const value = Number(raw.trim());
  if (raw.trim() === '' || !Number.isFinite(value)) {
    notices.push(`${name}=${raw} is not a number; using ${fallback}.`);
    return fallback;
  }
  let v = integer ? Math.round(value) : value;
  if (v < lo) v = lo;
  if (v > hi) v = hi;
  if (v !== value) notices.push(`${name}=${raw} is out of range (${lo} … ${hi}${integer ? ', whole numbers' : ''}); using ${v}.`);
  return v;
}

/** Most seeds of one run (each runs the whole plan). */
export const MAX_SEEDS = RUN_CONFIG_LIMITS.seedCount[1];

/**
 * A comma-separated seed list ("1,2,3"): the distinct whole numbers in SEED_RANGE, at most MAX_SEEDS,
 * and one sentence per entry left out (not a number, out of range, repeated, too many).
 */
export function parseSeedList(raw: string): { seeds: number[]; problems: string[] } {
  const seeds: number[] = [];
  const problems: string[] = [];
  for (const part of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
    const v = Number(part);
    if (!Number.isInteger(v) || v < SEED_RANGE[0] || v > SEED_RANGE[1]) problems.push(`"${part}" is not a whole number in ${SEED_RANGE[0]} … ${SEED_RANGE[1]}`);
    else if (seeds.includes(v)) problems.push(`${v} is repeated`);
    else if (seeds.length >= MAX_SEEDS) problems.push(`${v} is one seed too many (at most ${MAX_SEEDS})`);
    else seeds.push(v);
  }
  return { seeds, problems };
}

/** Reads the setup from a query string (`location.search`). Never throws. */
export function parseSetup(search: string): ParsedSetup {
  const params = new URLSearchParams(search);
  const notices: string[] = [];
  const config: SetupConfig = { ...DEFAULT_SETUP, methods: [...DEFAULT_SETUP.methods] };
  const get = (key: string): string | null => {
    const v = params.get(key);
    return v === null || v.trim() === '' ? null : v;
  };

  const scenario = get('scenario');
  if (scenario !== null) {
    const s = scenario.trim().toLowerCase();
    if (isScenarioId(s) && s !== 'custom') config.scenario = s;
    else notices.push(`Unknown scenario "${scenario}" in the URL; using ${DEFAULT_SETUP.scenario}. Valid values: ${BUNDLED_IDS.join(', ')}.`);
  }

  const net = get('net');
  if (net !== null) {
    const n = net.trim().toLowerCase();
    if (isNetKind(n)) config.net = n;
    else notices.push(`Unknown network "${net}" in the URL; using ${DEFAULT_SETUP.net}. Valid values: ${NET_KINDS.join(', ')}.`);
  }

  const methods = get('methods');
  if (methods !== null) {
    const names = methods.split(',').map((m) => m.trim().toLowerCase()).filter(Boolean);
    const known = METHOD_NAMES.filter((m) => names.includes(m));
    const unknown = names.filter((m) => !isMethodName(m));
    if (unknown.length > 0) notices.push(`Unknown method${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')} ignored. Valid values: ${METHOD_NAMES.join(', ')}.`);
    if (!known.includes('rescl')) {
      notices.push('ResCL is always part of the run (the λ slider needs it); added it to methods.');
      known.unshift('rescl');
    }
    config.methods = known;
  }

  const epochs = get('epochs');
  if (epochs !== null) config.epochs = clampNumber('epochs', epochs, EPOCH_RANGE, true, notices, DEFAULT_SETUP.epochs);

  const batch = get('batch');
  if (batch !== null) config.batchSize = clampNumber('batch', batch, BATCH_RANGE, true, notices, DEFAULT_SETUP.batchSize);

  const trainLimit = get('trainLimit');
  if (trainLimit !== null) {
    config.trainLimit = ['all', 'full'].includes(trainLimit.trim().toLowerCase())
      ? null
      : clampNumber('trainLimit', trainLimit, TRAIN_LIMIT_RANGE, true, notices, DEFAULT_SETUP.trainLimit ?? TRAINING_DEFAULTS.live.trainLimit);
  }

  const seed = get('seed');
  if (seed !== null) config.seed = clampNumber('seed', seed, SEED_RANGE, true, notices, DEFAULT_SETUP.seed);

  const seeds = get('seeds');
  if (seeds !== null) {
    const parsed = parseSeedList(seeds);
    config.seeds = parsed.seeds;
    if (parsed.problems.length) {
      notices.push(`seeds=${seeds}: ${parsed.problems.join('; ')}; ${parsed.seeds.length ? `using seeds ${parsed.seeds.join(', ')}` : `using seed ${config.seed} alone`}.`);
    }
  }

  const backend = get('backend');
  if (backend !== null) {
    const b = backend.trim().toLowerCase();
    if (isBackendPreference(b)) config.backend = b;
    else notices.push(`Unknown backend "${backend}" in the URL; using auto. Valid values: ${BACKEND_PREFERENCES.join(', ')}.`);
  }

  for (const setting of COMPARISON_SETTING_NAMES) {
    const param = URL_PARAM_OF_COMPARISON[setting];
    const raw = get(param);
    if (raw === null) continue;
    const value = raw.trim().toLowerCase();
    if (isComparisonChoice(setting, value)) Object.assign(config, { [setting]: value });
    else notices.push(`Unknown ${param} "${raw}" in the URL; using ${DEFAULT_SETUP[setting]}. Valid values: ${COMPARISON_CHOICES[setting].join(', ')}.`);
  }

  const lambda = get('lambda');
  if (lambda !== null) {
    const value = Number(lambda.trim());
    if (!Number.isFinite(value)) {
      notices.push(`lambda=${lambda} is not a number; using ${DEFAULT_SETUP.lambda}.`);
    } else {
      const clamped = clampLambda(value);
      if (clamped !== value) notices.push(`lambda=${lambda} is out of range (0, or ${LAMBDA_MIN} … ${LAMBDA_MAX}); using ${clamped}.`);
      config.lambda = clamped;
    }
  }

  return { config, notices };
}

/** Writes the setup as a query string (keeps other parameters of `base` untouched). */
export function formatSetup(config: SetupConfig, base = ''): string {
  const params = new URLSearchParams(base);
  params.set('scenario', config.scenario);
  params.set('net', config.net);
  params.set('methods', config.methods.join(','));
  params.set('epochs', String(config.epochs));
  params.set('batch', String(config.batchSize));
  params.set('trainLimit', config.trainLimit === null ? 'all' : String(config.trainLimit));
  params.set('seed', String(config.seed));
  if (config.seeds.length) params.set('seeds', config.seeds.join(','));
  else params.delete('seeds');
  params.set('backend', config.backend);
  params.set('lambda', String(config.lambda));
  for (const setting of COMPARISON_SETTING_NAMES) {
    if (config[setting] === DEFAULT_COMPARISON[setting]) params.delete(URL_PARAM_OF_COMPARISON[setting]);
    else params.set(URL_PARAM_OF_COMPARISON[setting], config[setting]);
  }
  return `?${params.toString()}`;
}
