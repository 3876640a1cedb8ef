import { describe, expect, it } from 'vitest';
import type { Experiment, ExperimentEvent, RunResult } from '../core/experiment';
import type { MethodName } from '../core/names';
import type { Net } from '../core/nets';
import type { StageProgress } from '../core/train';
import type { Task } from '../data/types';
import type { EngineEvent, RunConfig } from './protocol';
import { ReportThrottle } from './reporting';
import { RunControl, StopSignal } from './runControl';
import { RunDriver } from './runDriver';
import { SeedClock, SeedResults } from './seedRuns';
import { pointKey, SessionStore, type PointRecord, type RunRecord } from './sessions';
import { MemoryStorage } from './storage';

const CONFIG: RunConfig = {
  net: 'mlp', epochs: 1, batchSize: 64, learningRate: 2e-3, alphaLearningRate: 2e-2, weightDecay: 1e-4, headWarmupSteps: 1,
  seed: 1, lambda: 1e-3, methods: ['ft', 'lwf'], sweep: { lwf: [0.5, 1] },
};

const emptyNet = (): Net => ({ units: new Map(), heads: [] }) as unknown as Net;

function progress(stage: StageProgress['stage'], step: number, totalSteps: number): StageProgress {
  return { stage, step, totalSteps, epoch: 0, epochs: 1, loss: 1, lossFresh: true, samplesPerSec: 1, elapsedMs: 1, etaMs: 1, done: step === totalSteps } as StageProgress;
}

/** A stand-in experiment: two steps per stage, then a result; records which methods ran. */
function fakeExperiment(ran: string[]): Experiment {
  async function* stage(method: MethodName | 'source', knob: number | null, name: StageProgress['stage']): AsyncGenerator<ExperimentEvent, void, undefined> {
    for (let s = 1; s <= 2; s++) yield { type: 'progress', method, knob, taskIndex: method === 'source' ? 0 : 1, progress: progress(name, s, 2) };
  }
  return {
    sourceNet: emptyNet(),
    firstFinetunedNet: null,
    trainSourceNet: () => stage('source', null, 'source'),
    runMethod: async function* (method: MethodName, knob: number | null) {
      ran.push(`${method}:${knob}`);
      yield* stage(method, knob, 'finetune');
      const result: RunResult = {
        method, knob, accMatrix: [[0.9], [0.5, 0.8]], accByTask: { a: 0.5, b: 0.8 }, tradeoff: { source: 0.5, target: 0.8 }, paramCount: 10, net: emptyNet(),
      } as unknown as RunResult;
      yield { type: 'result', result };
    },
  } as unknown as Experiment;
}

function setup(points = new Map<string, PointRecord>()) {
  const events: EngineEvent[] = [];
  const ran: string[] = [];
  const storage = new MemoryStorage();
  const sessions = new SessionStore(storage);
  const control = new RunControl(async () => {}, 1e9);
  const run: RunRecord = { scenario: 'split-mnist', seed: 1, trainLimit: 10, testLimit: 10, session: 's', config: CONFIG, mode: 'baseline', method: 'lwf', lastStage: 'start' };
  const persisted: string[] = [];
  const driver = new RunDriver({
    run, single: false, experiment: fakeExperiment(ran), tasks: [{ id: 'a' }, { id: 'b' }] as unknown as Task[], evalSets: [], points, control,
    throttle: new ReportThrottle(0, 0), sessions, post: (e) => events.push(e), setDetail: () => {},
    persist: async (what, write) => { persisted.push(what); await write(); },
    seeds: { index: 0, results: new SeedResults([1]), clock: new SeedClock(1) },
  });
  return { driver, events, ran, storage, sessions, control, run, persisted };
}

describe('RunDriver α trajectories', () => {
  it('sends every α summary with the next progress event that goes out, none lost to the throttle', async () => {
    const events: EngineEvent[] = [];
    const storage = new MemoryStorage();
    const sessions = new SessionStore(storage);
    await storage.put('nets', 's|source', { saved: true });
    const combine = async function* (): AsyncGenerator<ExperimentEvent, void, undefined> {
      for (let s = 1; s <= 4; s++) {
        yield {
          type: 'progress', method: 'rescl', knob: 0.01, taskIndex: 1, progress: { ...progress('combine', s, 4), ...(s === 1 ? { compileMs: 12.34 } : {}) },
          alphas: [{ unit: 'd1', step: s, meanAbsSource: 0.5 - s / 100, meanAbsTarget: 0.5 }],
        };
      }
    };
    const experiment = {
      sourceNet: emptyNet(), firstFinetunedNet: null,
      trainSourceNet: async function* () { /* the source counts as trained */ },
      runMethod: combine,
    } as unknown as Experiment;
    const run: RunRecord = { scenario: 'split-mnist', seed: 1, trainLimit: 10, testLimit: 10, session: 's', config: CONFIG, mode: 'sweep', lastStage: 'start' };
    const driver = new RunDriver({
      run: { ...run, config: { ...CONFIG, sweep: { rescl: [0.01] } } }, single: false, experiment, tasks: [] as Task[], evalSets: [], points: new Map(),
      control: new RunControl(async () => {}, 1e9),
      // progress at most once per 1e9 ms: only the first step and the last (forced) go out
      throttle: new ReportThrottle(1e9, 1e9), sessions, post: (e) => events.push(e), setDetail: () => {}, persist: async () => {},
      seeds: { index: 0, results: new SeedResults([1]), clock: new SeedClock(1) },
    });
    await driver.execute();
    const sent = events.filter((e) => e.type === 'progress');
    expect(sent.map((e) => e.step)).toEqual([1, 4]);
    expect(sent.map((e) => e.alphas?.map((a) => a.step))).toEqual([[1], [2, 3, 4]]);
    // which seed trains, and (one seed) the run's ETA is the stage's
    expect(sent[0].seed).toEqual({ value: 1, index: 0, count: 1 });
    expect(sent[0].runEtaMs).toBe(sent[0].etaMs);
    // the backend card's stats: the warm-up time with the first event (no step time yet: the stage's
    // first), then ms per step over the 3 steps between the two events; no GPU counts on cpu
    expect(sent[0].device).toEqual({ compileMs: 12.3 });
    expect(sent[1].device?.msPerStep).toBeGreaterThanOrEqual(0);
    expect(sent[1].device?.dispatchesPerStep).toBeUndefined();
    expect(sent[1].device?.compileMs).toBeUndefined();
  });
});

describe('RunDriver (stand-in experiment)', () => {
  it('trains the source, runs the plan item, reports and saves the point and the stage', async () => {
    // the source network counts as saved, so no serialisation of the stand-in is needed
    const t = setup();
    await t.storage.put('nets', 's|source', { saved: true });
    await t.driver.execute();
    expect(t.ran).toEqual(['lwf:0.5']);
    const types = t.events.map((e) => e.type);
    expect(types.filter((x) => x === 'stageStarted')).toHaveLength(2);
    expect(types.filter((x) => x === 'tradeoffPoint')).toHaveLength(1);
    expect(types.indexOf('criteria')).toBeGreaterThan(types.indexOf('tradeoffPoint'));
    expect([...(await t.sessions.points('s')).keys()]).toEqual([pointKey('lwf', 0.5)]);
    expect((await t.sessions.current())?.lastStage).toBe(pointKey('lwf', 0.5));
    expect(t.persisted).toContain('a finished point');
  });

  it('skips a point already finished in the session', async () => {
    const done: PointRecord = { event: { type: 'tradeoffPoint', v: 1, method: 'lwf', knob: 0.5, accByTask: {}, source: 0, target: 0, accMatrix: [], paramCount: 0 } };
    const t = setup(new Map([[pointKey('lwf', 0.5), done]]));
    await t.storage.put('nets', 's|source', { saved: true });
    await t.driver.execute();
    expect(t.ran).toEqual([]);
    expect(t.events.some((e) => e.type === 'tradeoffPoint')).toBe(false);
  });

  it('stops at the next checkpoint with StopSignal and reports nothing after it', async () => {
    const t = setup();
    await t.storage.put('nets', 's|source', { saved: true });
    t.control.stop();
    await expect(t.driver.execute()).rejects.toBeInstanceOf(StopSignal);
    expect(t.ran).toEqual([]);
    expect(t.events.filter((e) => e.type === 'stageStarted')).toHaveLength(1);
  });
});
