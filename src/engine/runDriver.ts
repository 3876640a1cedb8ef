/**
 * Drives one run: trains the source network, then every item of the run's plan, on an experiment
 * the engine prepared; turns the experiment's events into protocol events (throttled progress, live
 * accuracies and α histograms, finished points, criteria, sample predictions) and saves each
 * finished stage. Control (pause/step/stop) is polled through `RunControl` after every event.
 *
 * Tensors: the resident evaluation subsets belong to the caller (`evalSets`); each finished
 * point's network is disposed here once reported; the live combined network belongs to the
 * experiment and is only read.
 */
import * as tf from '@tensorflow/tfjs';
import type { ResidentDataset } from '../core/batches';
import { forwardCombined, readAlphas, type CombinedNet } from '../core/combine';
import type { Experiment, ExperimentEvent, RunResult } from '../core/experiment';
import { METHOD_KNOBS } from '../core/names';
import { disposeNet, predict } from '../core/nets';
import { serializeNet } from '../core/serialize';
import { evaluateAccuracy } from '../core/train';
import { countDeviceWork, deviceWorkPerStep, type DeviceWork, type DeviceWorkCounter } from '../kernels';
import type { Task } from '../data/types';
import { sampleImages } from './datasets';
import { nearestState, runPlan } from './plan';
import { PROTOCOL_VERSION, type AlphaSummary, type DeviceStats, type EngineEvent, type ProgressEvent, type TradeoffPointEvent } from './protocol';
import { foldReportEvent, histograms, type ReportThrottle } from './reporting';
import type { SeedClock, SeedResults } from './seedRuns';
import type { RunControl } from './runControl';
import { pointKey, type PointRecord, type RunRecord, type SessionStore } from './sessions';

/** Images per task in `samplePredictions`. */
const PREDICTION_SAMPLES = 8;

export interface RunContext {
  run: RunRecord;
  /** a single network at one λ (trainLambda): finished points are trained again, never live */
  single: boolean;
  experiment: Experiment;
  tasks: readonly Task[];
  /** resident test subsets per task (live accuracies, sample predictions) */
  evalSets: readonly ResidentDataset[];
  /** the session's finished points: read for skipping and warm starts, finished points added */
  points: Map<string, PointRecord>;
  control: RunControl;
  throttle: ReportThrottle;
  sessions: SessionStore;
  post: (event: EngineEvent) => void;
  /** announces the run's detail line ('running' state) */
  setDetail: (detail: string) => void;
  /** runs a storage write; a failure is reported, never thrown */
  persist: (what: string, write: () => Promise<void>) => Promise<void>;
  /** the run's seeds: which one trains now (`index` into `results.seeds`), every seed's points, the run's clock */
  seeds: { index: number; results: SeedResults; clock: SeedClock };
}

export class RunDriver {
  /** λ of the live ResCL stage (the slider; `setLambda` changes it between steps) */
  liveLambda: number;
  private live: { combined: CombinedNet; knob: number | null; taskIndex: number } | null = null;
  private stageKey = '';
  /** α summaries measured since the last progress event went out (sent with the next one) */
  private pendingAlphas: AlphaSummary[] = [];
  /** the last pipeline warm-up's time, sent with the next progress event */
  private pendingCompileMs: number | null = null;
  /** GPU work counter (webgpu only) and where the last progress event left the step clock */
  private readonly device: { counter: DeviceWorkCounter | null; work: DeviceWork | null; step: number; at: number; stage: string } = {
    counter: null, work: null, step: 0, at: 0, stage: '',
  };

  constructor(private readonly c: RunContext) {
    this.liveLambda = c.run.config.lambda;
  }

  /** Runs to the end; throws StopSignal when stopped, anything else when it fails. */
  async execute(): Promise<void> {
    const { run, experiment: exp, sessions } = this.c;
    this.device.counter = countDeviceWork();
    try {
      await this.saveRun(run.lastStage);
      await this.consume(exp.trainSourceNet());
      await this.c.persist('the source network', () => sessions.saveNetOnce(run.session, 'source', () => serializeNet(exp.sourceNet)));
      await this.saveRun('source');
      const seen = new Set<string>();
      for (const item of runPlan(run, this.c.single)) {
        const key = pointKey(item.method, item.knob);
        if (seen.has(key)) continue;
        seen.add(key);
        if (this.c.points.has(key) && !this.c.single) continue;
        this.c.setDetail(`${item.method}${item.knob !== null ? ` ${METHOD_KNOBS[item.method]?.knob ?? 'knob'}=${item.knob}` : ''}`);
        const options = item.method === 'rescl'
          ? { lambda: item.live ? () => this.liveLambda : undefined, warmStart: item.live ? undefined : nearestState(this.c.points.values(), item.knob ?? 0) }
          : {};
        if (item.live) this.liveLambda = item.knob ?? 0;
        await this.consume(exp.runMethod(item.method, item.knob, options), true);
        await this.saveRun(key);
      }
    } finally {
      this.live = null;
      this.device.counter?.restore();
      this.device.counter = null;
    }
  }

  private saveRun(lastStage: string): Promise<void> {
    return this.c.persist('the run', () => this.c.sessions.saveRun(this.c.run, lastStage));
  }

  /** Drives an experiment generator: events out, control in; throws StopSignal on stop. */
  private async consume(gen: AsyncGenerator<ExperimentEvent, void, undefined>, results = false): Promise<void> {
    for await (const e of gen) {
      if (e.type === 'progress') await this.onProgress(e);
      else if (e.type === 'combined') this.live = { combined: e.combined, knob: e.knob, taskIndex: e.taskIndex };
      else if (results) await this.onResult(e.result);
      await this.c.control.checkpoint(e.type === 'progress');
    }
  }

  private async onProgress(e: Extract<ExperimentEvent, { type: 'progress' }>): Promise<void> {
    const p = e.progress;
    const stage = p.stage;
    const key = `${e.method}|${e.knob}|${e.taskIndex}|${stage}`;
    const base = { method: e.method, knob: e.knob, taskIndex: e.taskIndex };
    if (key !== this.stageKey) {
      this.stageKey = key;
      this.pendingAlphas = [];
      this.c.post({ type: 'stageStarted', v: PROTOCOL_VERSION, ...base, stage, totalSteps: p.totalSteps });
    }
    if (stage !== 'combine' && this.live) this.live = null;
    if (e.alphas) this.pendingAlphas.push(...e.alphas);
    if (p.compileMs !== undefined) this.pendingCompileMs = p.compileMs;
    const now = performance.now();
    const force = p.done || this.c.control.paused;
    if (!this.c.throttle.progressDue(now, force)) return;
    const { index, results, clock } = this.c.seeds;
    const event: ProgressEvent = {
      type: 'progress', v: PROTOCOL_VERSION, ...base, stage, step: p.step, totalSteps: p.totalSteps, epoch: p.epoch, epochs: p.epochs,
      loss: p.loss, samplesPerSec: p.samplesPerSec, elapsedMs: p.elapsedMs, etaMs: p.etaMs,
      seed: { value: results.seeds[index], index, count: results.seeds.length },
    };
    const runEta = clock.runEtaMs(index, p.etaMs);
    if (runEta !== undefined) event.runEtaMs = runEta;
    if (this.pendingAlphas.length) {
      event.alphas = this.pendingAlphas;
      this.pendingAlphas = [];
    }
    const device = this.deviceStats(key, p.step, now);
    if (device) event.device = device;
    if (stage === 'combine' && this.live) {
      const run = this.c.run;
      if (e.method === 'rescl' && (run.mode === 'rescl' || run.mode === 'full') && this.stageIsLive(e.knob)) event.lambda = this.liveLambda;
      else if (e.knob !== null) event.lambda = e.knob;
      if (this.c.throttle.evalDue(now, force)) {
        event.accByTask = await this.liveAccuracy(this.live.combined, this.live.taskIndex);
        const alphas = await readAlphas(this.live.combined);
        this.c.post({ type: 'alphaHistogram', v: PROTOCOL_VERSION, lambda: event.lambda ?? 0, step: p.step, layers: histograms(alphas) });
        this.c.throttle.evaluated(now, performance.now());
      }
    }
    this.c.post(event);
    // the next interval starts after this event's evaluation, which is not training
    this.device.work = this.device.counter?.read() ?? null;
    this.device.at = performance.now();
  }

  /** ms, dispatches and submits per step since the last progress event of the same stage (null at a stage's first). */
  private deviceStats(stageKey: string, step: number, now: number): DeviceStats | null {
    const d = this.device;
    const steps = step - d.step;
    const sameStage = d.stage === stageKey && steps > 0;
    const before = d.work;
    d.stage = stageKey;
    d.step = step;
    const stats: DeviceStats = {};
    if (sameStage) {
      stats.msPerStep = +((now - d.at) / steps).toFixed(2);
      const after = d.counter?.read() ?? null;
      if (before && after) {
        const per = deviceWorkPerStep(before, after, steps);
        stats.dispatchesPerStep = per.dispatches;
        stats.submitsPerStep = per.submissions;
      }
    }
    if (this.pendingCompileMs !== null) {
      stats.compileMs = +this.pendingCompileMs.toFixed(1);
      this.pendingCompileMs = null;
    }
    return Object.keys(stats).length > 0 ? stats : null;
  }

  private stageIsLive(knob: number | null): boolean {
    const run = this.c.run;
    return knob === (run.mode === 'rescl' ? run.knob ?? run.config.lambda : run.config.lambda);
  }

  private async liveAccuracy(c: CombinedNet, taskIndex: number): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    const forward = (x: tf.Tensor4D) => forwardCombined(c, x);
    for (let j = 0; j <= taskIndex && j < this.c.evalSets.length; j++) {
      out[this.c.tasks[j].id] = await evaluateAccuracy(forward, j, this.c.evalSets[j]);
    }
    return out;
  }

  private async onResult(r: RunResult): Promise<void> {
    const { run, sessions } = this.c;
    try {
      const ft = this.c.experiment.firstFinetunedNet;
      if (ft) await this.c.persist('the fine-tuned network', () => sessions.saveNetOnce(run.session, 'finetune1', () => serializeNet(ft)));
      const knob = r.knob;
      const fold = r.fold?.[0];
      const event: TradeoffPointEvent = {
        type: 'tradeoffPoint', v: PROTOCOL_VERSION, method: r.method, knob, accByTask: r.accByTask,
        source: r.tradeoff.source, target: r.tradeoff.target, average: r.tradeoff.average, accMatrix: r.accMatrix, paramCount: r.paramCount,
      };
      if (r.fold) event.foldMaxAbsDiff = Math.max(...r.fold.map((f) => f.maxAbsDiff));
      if (r.alphas) event.alphas = histograms(r.alphas);
      const record: PointRecord = { event };
      if (r.method === 'rescl') {
        record.folded = await serializeNet(r.net);
        if (r.combinedState) record.state = r.combinedState;
        if (fold) record.fold = fold;
      }
      const key = pointKey(r.method, knob);
      this.c.points.set(key, record);
      await this.c.persist('a finished point', () => sessions.savePoint(run.session, key, record));
      // reported over the seeds that finished this point so far (mean ± sd; one seed: itself, sd 0)
      const { index, results } = this.c.seeds;
      results.set(results.seeds[index], key, event);
      this.c.post(results.pointEvent(key));
      if (fold && knob !== null) this.c.post(foldReportEvent(knob, fold));
      this.c.post(results.criteriaEvent());
      await this.postSamples(r);
    } finally {
      disposeNet(r.net);
    }
  }

  private async postSamples(r: RunResult): Promise<void> {
    const tasks = this.c.tasks;
    for (let j = 0; j < tasks.length && j < r.net.heads.length && j < this.c.evalSets.length; j++) {
      const set = this.c.evalSets[j];
      const n = Math.min(PREDICTION_SAMPLES, set.count);
      const logits = tf.tidy(() => tf.argMax(predict(r.net, tf.slice(set.x, 0, n) as tf.Tensor4D)[j], 1));
      const predicted = [...(await logits.data())];
      logits.dispose();
      const t = tasks[j];
      this.c.post({ type: 'samplePredictions', v: PROTOCOL_VERSION, taskId: t.id, images: sampleImages(t, n), labels: [...t.test.labels.slice(0, n)], predicted });
    }
  }
}
