/**
 * The lab's state as plain data, and pure functions over it: how each engine event changes it
 * (`reduceEvent`), and what the charts need from it (selectors). No React, no worker: tested in Node.
 */
import { paretoFront } from '../core/metrics';
import type { MethodName } from '../core/names';
import type {
  AlphaHistogramEvent, AlphaLayerHistogram, CriteriaEvent, EngineErrorEvent, EngineEvent, ExportArtifactsEvent,
  FoldReportEvent, ImportResultEvent, ProgressEvent, RestoredEvent, RunKey, RunState, ScenarioLoadedEvent, StageKind, TaskSummary,
  TradeoffPointEvent,
  DeviceStats,
} from '../engine/protocol';
import { checkDeviceStats, PROTOCOL_VERSION } from '../engine/protocol';
import { formatLambda, lambdaToSlider, sameLambda } from '../core/lambda';
import { addAlphaSummaries, appendThinned, type StageTrajectories } from './alphaTrajectory';

// λ: one definition in core/lambda.ts (re-exported: the UI imports only the store)
export { formatLambda, lambdaToSlider, nearestNotch, sameLambda, SLIDER_MAX, sliderToLambda, STEPS_PER_DECADE } from '../core/lambda';

// ---------------------------------------------------------------------------------------------
// State

/** One training stage of one method run (e.g. "ResCL λ=1e-3, combine, task 2"). */
export interface StageRecord {
  key: string;
  method: RunKey['method'];
  knob: number | null;
  taskIndex: number;
  stage: StageKind;
  totalSteps: number;
  step: number;
  epoch: number;
  epochs: number;
  loss: number | null;
  samplesPerSec: number;
  etaMs: number;
  elapsedMs: number;
  lambda?: number;
  /** which of the run's seeds this stage belongs to */
  seed?: ProgressEvent['seed'];
  /** time left for the whole run, all seeds (absent: not known yet) */
  runEtaMs?: number;
  /** the latest measured test accuracy per task id */
  accByTask: Record<string, number>;
  done: boolean;
}

/** One point of a stage's loss / accuracy curve. */
export interface CurvePoint {
  step: number;
  loss: number;
  /** accuracy per task id, when it was measured at this step */
  acc?: Record<string, number>;
}

/** Most points kept per curve (older points are thinned out, never the newest). */
export const MAX_CURVE_POINTS = 400;

/** A finished result, with where it came from. */
export type ResultPoint = TradeoffPointEvent & { restored?: boolean };

export interface LabData {
  runState: RunState;
  runDetail: string;
  scenario: ScenarioLoadedEvent | null;
  stages: StageRecord[];
  currentStageKey: string | null;
  curves: Record<string, CurvePoint[]>;
  points: ResultPoint[];
  criteria: CriteriaEvent['byMethod'];
  /** the latest streamed α histograms (of the combined stage in progress) */
  liveAlphas: AlphaHistogramEvent | null;
  /** mean |α_s|, |α_t| per unit against the step, per combine stage key (alphaTrajectory.ts) */
  alphaTrajectories: Record<string, StageTrajectories>;
  /** how the device trains (latest progress event's stats; the last warm-up's compile time kept) */
  deviceStats: DeviceStats | null;
  foldReports: FoldReportEvent[];
  /** where the λ slider is (λ value) */
  sliderLambda: number;
  /** λ of a trainLambda request in flight */
  trainingLambda: number | null;
  lastExport: ExportArtifactsEvent | null;
  importResult: ImportResultEvent | null;
  errors: EngineErrorEvent[];
  /** how many points the `restored` event brought back (null: not answered yet) */
  restoredCount: number | null;
  /** a run a reload or crash cut short, resumable from its last finished stage (from `restored`) */
  interrupted: RestoredEvent['interrupted'];
}

export const INITIAL_LAB_DATA: LabData = {
  runState: 'idle',
  runDetail: '',
  scenario: null,
  stages: [],
  currentStageKey: null,
  curves: {},
  points: [],
  criteria: {},
  liveAlphas: null,
  alphaTrajectories: {},
  deviceStats: null,
  foldReports: [],
  sliderLambda: 1e-3,
  trainingLambda: null,
  lastExport: null,
  importResult: null,
  errors: [],
  restoredCount: null,
  interrupted: null,
};

export function stageKey(k: RunKey & { stage: StageKind }): string {
  return `${k.method}|${k.knob ?? '-'}|${k.taskIndex}|${k.stage}`;
}

function upsertStage(stages: StageRecord[], rec: StageRecord): StageRecord[] {
  const i = stages.findIndex((s) => s.key === rec.key);
  if (i < 0) return [...stages, rec];
  const next = stages.slice();
  next[i] = rec;
  return next;
}

/** Appends a point, halving the older half when the curve grows past MAX_CURVE_POINTS (points with an accuracy stay). */
export function appendCurve(curve: CurvePoint[], point: CurvePoint): CurvePoint[] {
  return appendThinned(curve, point, MAX_CURVE_POINTS, (p) => p.acc !== undefined);
}

function pointKey(p: { method: MethodName; knob: number | null }): (q: { method: MethodName; knob: number | null }) => boolean {
  return (q) => q.method === p.method && (p.knob === null ? q.knob === null : q.knob !== null && sameLambda(p.knob, q.knob));
}

/** Adds or replaces a finished point (same method and knob). */
export function upsertPoint(points: ResultPoint[], p: ResultPoint): ResultPoint[] {
  const i = points.findIndex(pointKey(p));
  if (i < 0) return [...points, p];
  const next = points.slice();
  next[i] = p;
  return next;
}

function progressToStage(prev: StageRecord | undefined, e: ProgressEvent, key: string): StageRecord {
  return {
    key,
    method: e.method,
    knob: e.knob,
    taskIndex: e.taskIndex,
    stage: e.stage,
    totalSteps: e.totalSteps,
    step: e.step,
    epoch: e.epoch,
    epochs: e.epochs,
    loss: e.loss,
    samplesPerSec: e.samplesPerSec,
    etaMs: e.etaMs,
    elapsedMs: e.elapsedMs,
    lambda: e.lambda ?? prev?.lambda,
    seed: e.seed ?? prev?.seed,
    runEtaMs: e.runEtaMs,
    accByTask: e.accByTask ? { ...prev?.accByTask, ...e.accByTask } : (prev?.accByTask ?? {}),
    done: e.totalSteps > 0 && e.step >= e.totalSteps,
  };
}

/** How one engine event changes the lab data (pure; returns the fields that change). */
export function reduceEvent(s: LabData, e: EngineEvent): Partial<LabData> {
  switch (e.type) {
    case 'state': {
      const patch: Partial<LabData> = { runState: e.state, runDetail: e.detail };
      if (e.state !== 'running' && e.state !== 'paused') patch.trainingLambda = null;
      // a run that starts replaces the engine's interrupted-run record: the old one is gone
      if (e.state === 'running') patch.interrupted = null;
      if (e.state === 'done' || e.state === 'idle') {
        patch.stages = s.stages.map((st) => (st.done ? st : { ...st, done: true }));
      }
      return patch;
    }
    case 'scenarioLoaded':
      return { scenario: e };
    case 'stageStarted': {
      const key = stageKey(e);
      const rec: StageRecord = {
        key, method: e.method, knob: e.knob, taskIndex: e.taskIndex, stage: e.stage, totalSteps: e.totalSteps,
        step: 0, epoch: 0, epochs: 0, loss: null, samplesPerSec: 0, etaMs: 0, elapsedMs: 0, accByTask: {}, done: false,
      };
      // earlier stages are finished once a new one starts
      const stages = upsertStage(s.stages.map((st) => (st.done ? st : { ...st, done: true })), rec);
      const patch: Partial<LabData> = { stages, currentStageKey: key, curves: { ...s.curves, [key]: [] } };
      if (s.alphaTrajectories[key]) patch.alphaTrajectories = { ...s.alphaTrajectories, [key]: {} };
      return patch;
    }
    case 'progress': {
      const key = stageKey(e);
      const prev = s.stages.find((st) => st.key === key);
      const rec = progressToStage(prev, e, key);
      const point: CurvePoint = { step: e.step, loss: e.loss };
      if (e.accByTask) point.acc = e.accByTask;
      const patch: Partial<LabData> = {
        stages: upsertStage(s.stages, rec),
        currentStageKey: key,
        curves: { ...s.curves, [key]: appendCurve(s.curves[key] ?? [], point) },
      };
      if (e.device !== undefined) {
        const problem = checkDeviceStats(e.device);
        if (problem === null) patch.deviceStats = { ...(s.deviceStats?.compileMs !== undefined ? { compileMs: s.deviceStats.compileMs } : {}), ...e.device };
        else patch.errors = withError(s.errors, `The engine sent device statistics the lab cannot show (${problem}); the backend card skips them.`);
      }
      if (e.alphas !== undefined) {
        const added = addAlphaSummaries(s.alphaTrajectories[key], e.alphas);
        if (added.ok) patch.alphaTrajectories = { ...s.alphaTrajectories, [key]: added.trajectories };
        else patch.errors = withError(s.errors, `The engine sent α summaries the lab cannot draw (${added.problem}); the α trajectories skip them.`);
      }
      return patch;
    }
    case 'alphaHistogram':
      return { liveAlphas: e };
    case 'tradeoffPoint': {
      const patch: Partial<LabData> = { points: upsertPoint(s.points, e) };
      if (e.method === 'rescl' && s.trainingLambda !== null && e.knob !== null && sameLambda(e.knob, s.trainingLambda)) {
        patch.trainingLambda = null;
      }
      return patch;
    }
    case 'criteria':
      return { criteria: e.byMethod };
    case 'foldReport':
      return { foldReports: [...s.foldReports.filter((f) => !sameLambda(f.lambda, e.lambda)), e] };
    case 'exportArtifacts':
      return { lastExport: e };
    case 'importResult':
      return { importResult: e };
    case 'restored': {
      let points = s.points;
      for (const p of e.points) {
        if (!points.some(pointKey(p))) points = [...points, { ...p, restored: true }];
      }
      return {
        points,
        restoredCount: e.points.length,
        interrupted: e.interrupted,
      };
    }
    case 'error':
      return { errors: [...s.errors, e], ...(e.code !== 'busy' ? { trainingLambda: null } : {}) };
    case 'ready':
    case 'samplePredictions':
      return {};
  }
}

/**
 * What a crash of the engine worker changes once the store has started a fresh one with the
 * backend preference `backend` (engineSlice.ts): a run in progress ends in 'error', the stages it
 * left open are closed, no λ is training any more, and the crash is reported in words, as a
 * recoverable error (the page goes on). Finished results, curves, histograms and criteria stay; the
 * fresh worker's `restored` event brings the interrupted run, with its resume offer.
 */
export function afterWorkerCrash(s: LabData, e: EngineErrorEvent, backend: string): Partial<LabData> {
  const wasRunning = s.runState === 'running' || s.runState === 'paused';
  const message = `${e.message}. A fresh engine worker was started (backend: ${backend}); the results so far are kept`
    + (wasRunning ? ', and the interrupted run is offered for resuming from its last finished stage.' : '.');
  return {
    errors: [...s.errors, { ...e, message, recoverable: true }],
    trainingLambda: null,
    stages: s.stages.map((st) => (st.done ? st : { ...st, done: true })),
    ...(wasRunning ? { runState: 'error' as const, runDetail: 'the engine worker crashed' } : {}),
  };
}

/** `errors` with a recoverable UI-side error added, unless the same message is already there. */
function withError(errors: EngineErrorEvent[], message: string): EngineErrorEvent[] {
  if (errors.some((e) => e.message === message)) return errors;
  return [...errors, { type: 'error', v: PROTOCOL_VERSION, code: 'bad-message', message, recoverable: true }];
}

// ---------------------------------------------------------------------------------------------
// Selectors (plain arrays for the charts)

/** ResCL's finished points, by increasing λ. */
export function resclPoints(points: readonly ResultPoint[]): ResultPoint[] {
  return points.filter((p) => p.method === 'rescl' && p.knob !== null).sort((a, b) => (a.knob ?? 0) - (b.knob ?? 0));
}

/** The finished ResCL point nearest to λ on the slider's scale (log λ, 0 as its own notch). */
export function nearestResclPoint(points: readonly ResultPoint[], lambda: number): ResultPoint | null {
  const target = lambdaToSlider(lambda);
  let best: ResultPoint | null = null;
  let bestD = Infinity;
  for (const p of resclPoints(points)) {
    const d = Math.abs(lambdaToSlider(p.knob ?? 0) - target);
    if (d < bestD) {
      best = p;
      bestD = d;
    }
  }
  return best;
}

/** True when a finished ResCL network exists at exactly λ. */
export function hasResclPointAt(points: readonly ResultPoint[], lambda: number): boolean {
  return points.some((p) => p.method === 'rescl' && p.knob !== null && sameLambda(p.knob, lambda));
}

export interface PlanePoint {
  method: MethodName;
  knob: number | null;
  /** accuracy in percent */
  source: number;
  target: number;
  /** sample sd over seeds in percent (absent for one seed) */
  sourceSd?: number;
  targetSd?: number;
  /** how many seeds the point averages (absent: one) */
  seeds?: number;
  label: string;
}

export interface TradeoffSeries {
  method: MethodName;
  points: PlanePoint[];
  /** Pareto front, by increasing target accuracy (methods with a knob only) */
  front: PlanePoint[];
}

/** The trade-off plane per method (accuracies in percent), with Pareto fronts. */
export function tradeoffSeries(points: readonly ResultPoint[], knobName: (m: MethodName) => string | null): TradeoffSeries[] {
  const byMethod = new Map<MethodName, PlanePoint[]>();
  for (const p of points) {
    const name = knobName(p.method);
    const pp: PlanePoint = {
      method: p.method, knob: p.knob, source: 100 * p.source, target: 100 * p.target,
      label: name && p.knob !== null ? `${name}=${formatLambda(p.knob)}` : '',
    };
    if (p.spread && p.spread.seeds > 1) {
      pp.seeds = p.spread.seeds;
      pp.sourceSd = 100 * p.spread.source;
      pp.targetSd = 100 * p.spread.target;
    }
    byMethod.set(p.method, [...(byMethod.get(p.method) ?? []), pp]);
  }
  return [...byMethod.entries()].map(([method, pts]) => ({
    method,
    points: pts.sort((a, b) => (a.knob ?? 0) - (b.knob ?? 0)),
    front: knobName(method) ? paretoFront(pts) : [],
  }));
}

export interface HistogramBar {
  /** bin centre */
  x: number;
  source: number;
  target: number;
}

/** Bars of one layer's α histograms: bin centres from the fixed range. */
export function histogramBars(layer: AlphaLayerHistogram, range: readonly [number, number], bins: number): HistogramBar[] {
  const width = (range[1] - range[0]) / bins;
  return Array.from({ length: bins }, (_, i) => ({
    x: Number((range[0] + (i + 0.5) * width).toFixed(3)),
    source: layer.alphaSource[i] ?? 0,
    target: layer.alphaTarget[i] ?? 0,
  }));
}

/** "2 min 5 s", "12 s", "—". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${s % 60} s`;
}

/** "97.3 %" from a fraction, or "97.3 ± 0.4 %" with a standard deviation over more than one seed. */
export function formatPercentSd(x: number | null | undefined, sd: number | undefined, seeds: number | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return (seeds ?? 1) > 1 && sd !== undefined && Number.isFinite(sd) ? `${(100 * x).toFixed(1)} ± ${(100 * sd).toFixed(1)} %` : formatPercent(x);
}

/** "97.3 %" from a fraction. */
export function formatPercent(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : `${(100 * x).toFixed(1)} %`;
}

/** Task names by id, from the loaded scenario (falls back to ids). */
export function taskNames(scenario: ScenarioLoadedEvent | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of scenario?.tasks ?? ([] as TaskSummary[])) out[t.id] = t.name;
  return out;
}

const STAGE_LABELS: Record<StageKind, string> = {
  source: 'source task', finetune: 'fine-tune', combine: 'combine', fe: 'feature extraction', lwf: 'LwF', ewc: 'EWC', joint: 'joint',
};

/** A stage in words: "ResCL λ=1e-3 · combine · task 2". */
export function describeStage(st: Pick<StageRecord, 'method' | 'knob' | 'stage' | 'taskIndex'>, labels: Record<string, string>, knobName: (m: MethodName) => string | null): string {
  const who = st.method === 'source' ? 'Source' : (labels[st.method] ?? st.method);
  const knob = st.method !== 'source' && st.knob !== null ? ` ${knobName(st.method) ?? 'knob'}=${formatLambda(st.knob)}` : '';
  return `${who}${knob} · ${STAGE_LABELS[st.stage]} · task ${st.taskIndex + 1}`;
}
