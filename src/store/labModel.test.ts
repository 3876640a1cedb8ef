import { describe, expect, it } from 'vitest';
import { checkDeviceStats, PROTOCOL_VERSION, type EngineEvent, type TradeoffPointEvent } from '../engine/protocol';
import {
  INITIAL_LAB_DATA, MAX_CURVE_POINTS, SLIDER_MAX, afterWorkerCrash, appendCurve, formatLambda, formatPercentSd, hasResclPointAt, histogramBars, lambdaToSlider,
  nearestResclPoint, reduceEvent, sliderToLambda, tradeoffSeries, type CurvePoint, type LabData,
} from './labModel';

const v = PROTOCOL_VERSION;

function point(method: TradeoffPointEvent['method'], knob: number | null, source: number, target: number): TradeoffPointEvent {
  return { type: 'tradeoffPoint', v, method, knob, source, target, accByTask: { a: source, b: target }, accMatrix: [[source], [source, target]], paramCount: 100 };
}

function apply(events: EngineEvent[], start: LabData = INITIAL_LAB_DATA): LabData {
  return events.reduce<LabData>((s, e) => ({ ...s, ...reduceEvent(s, e) }), start);
}

describe('λ slider scale', () => {
  it('puts λ = 0 at position 0 and 1e-6 … 1e-1 log-uniformly after it', () => {
    expect(sliderToLambda(0)).toBe(0);
    expect(sliderToLambda(1)).toBe(1e-6);
    expect(sliderToLambda(SLIDER_MAX)).toBe(0.1);
    expect(sliderToLambda(SLIDER_MAX + 5)).toBe(0.1);
    for (const l of [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1]) {
      expect(sliderToLambda(lambdaToSlider(l))).toBe(l);
    }
    expect(lambdaToSlider(0)).toBe(0);
    expect(lambdaToSlider(1e-9)).toBe(0.5);
  });

  it('formats λ compactly', () => {
    expect(formatLambda(0)).toBe('0');
    expect(formatLambda(1e-3)).toBe('1e-3');
    expect(formatLambda(3.16e-4)).toBe('3.16e-4');
    expect(formatLambda(null)).toBe('—');
  });
});

describe('nearestResclPoint', () => {
  const pts = [point('rescl', 0, 0.5, 0.99), point('rescl', 1e-4, 0.8, 0.97), point('rescl', 1e-2, 0.97, 0.8), point('lwf', 1, 0.9, 0.9)];
  it('picks the nearest finished λ in log scale, with 0 as its own notch', () => {
    expect(nearestResclPoint(pts, 0)?.knob).toBe(0);
    expect(nearestResclPoint(pts, 1e-6)?.knob).toBe(0);
    expect(nearestResclPoint(pts, 2e-4)?.knob).toBe(1e-4);
    expect(nearestResclPoint(pts, 2e-3)?.knob).toBe(1e-2);
    expect(nearestResclPoint(pts, 0.1)?.knob).toBe(1e-2);
    expect(nearestResclPoint([], 0.1)).toBeNull();
  });
  it('knows when a network exists at exactly λ', () => {
    expect(hasResclPointAt(pts, 1e-4 * (1 + 1e-9))).toBe(true);
    expect(hasResclPointAt(pts, 1e-3)).toBe(false);
    expect(hasResclPointAt(pts, 1)).toBe(false); // LwF's knob is not a ResCL network
  });
});

describe('reduceEvent', () => {
  it('tracks stages, progress and curves', () => {
    const s = apply([
      { type: 'state', v, state: 'running', detail: 'source' },
      { type: 'stageStarted', v, method: 'source', knob: null, taskIndex: 0, stage: 'source', totalSteps: 10 },
      { type: 'progress', v, method: 'source', knob: null, taskIndex: 0, stage: 'source', step: 5, totalSteps: 10, epoch: 1, epochs: 1, loss: 0.7, samplesPerSec: 900, elapsedMs: 500, etaMs: 500, accByTask: { a: 0.8 } },
      { type: 'progress', v, method: 'source', knob: null, taskIndex: 0, stage: 'source', step: 10, totalSteps: 10, epoch: 1, epochs: 1, loss: 0.4, samplesPerSec: 1000, elapsedMs: 1000, etaMs: 0 },
      { type: 'stageStarted', v, method: 'rescl', knob: 1e-3, taskIndex: 1, stage: 'combine', totalSteps: 20 },
    ]);
    expect(s.runState).toBe('running');
    expect(s.stages).toHaveLength(2);
    expect(s.stages[0]).toMatchObject({ step: 10, loss: 0.4, accByTask: { a: 0.8 }, done: true });
    expect(s.stages[1]).toMatchObject({ method: 'rescl', knob: 1e-3, done: false });
    expect(s.currentStageKey).toBe(s.stages[1].key);
    expect(s.curves[s.stages[0].key]).toEqual([{ step: 5, loss: 0.7, acc: { a: 0.8 } }, { step: 10, loss: 0.4 }]);
  });

  it('replaces a point at the same method and knob, and clears a finished trainLambda', () => {
    const s0: LabData = { ...INITIAL_LAB_DATA, trainingLambda: 3e-3 };
    const s = apply([point('rescl', 3e-3, 0.9, 0.9), point('rescl', 3e-3, 0.91, 0.92), point('ft', null, 0.2, 0.99)], s0);
    expect(s.points).toHaveLength(2);
    expect(s.points[0].source).toBe(0.91);
    expect(s.trainingLambda).toBeNull();
  });

  it('adds restored points without duplicating live ones', () => {
    const s = apply([
      point('rescl', 1e-3, 0.9, 0.9),
      { type: 'restored', v, points: [point('rescl', 1e-3, 0.5, 0.5), point('rescl', 1e-2, 0.95, 0.8)], interrupted: null },
    ]);
    expect(s.points.map((p) => [p.knob, p.source])).toEqual([[1e-3, 0.9], [1e-2, 0.95]]);
    expect(s.points[1].restored).toBe(true);
    expect(s.restoredCount).toBe(2);
  });

  it('keeps an interrupted run from `restored` until a run starts', () => {
    const interrupted = {
      scenario: 'split-mnist' as const, lastStage: 'source', seed: 3, trainLimit: 500, testLimit: null, mode: 'full' as const,
      config: { net: 'mlp' as const, epochs: 1, batchSize: 64, learningRate: 1e-3, alphaLearningRate: 1e-2, weightDecay: 1e-4, headWarmupSteps: 0, seed: 3, lambda: 1e-3, methods: ['rescl' as const], sweep: {} },
    };
    const restored = apply([{ type: 'restored', v, points: [], interrupted, session: null }]);
    expect(restored.interrupted).toEqual(interrupted);
    const after = reduceEvent(restored, { type: 'state', v, state: 'running', detail: 'full run' });
    expect(after.interrupted).toBeNull();
  });

  it('keeps errors and leaves results alone', () => {
    const s = apply([point('rescl', 0, 0.5, 0.9), { type: 'error', v, code: 'bad-file', message: 'model.json: not a model', recoverable: true }]);
    expect(s.errors).toHaveLength(1);
    expect(s.points).toHaveLength(1);
  });
});

describe('afterWorkerCrash', () => {
  const crash = { type: 'error' as const, v, code: 'worker-crashed' as const, message: 'engine worker failed: Error: boom (engine.worker.js:1)', recoverable: false };
  const midRun = apply([
    { type: 'state', v, state: 'running', detail: 'full run' },
    { type: 'stageStarted', v, method: 'source', knob: null, taskIndex: 0, stage: 'source', totalSteps: 4 },
    { type: 'progress', v, method: 'source', knob: null, taskIndex: 0, stage: 'source', step: 4, totalSteps: 4, epoch: 1, epochs: 1, loss: 0.4, samplesPerSec: 1, elapsedMs: 1, etaMs: 0 },
    point('rescl', 0, 0.5, 0.99),
    { type: 'stageStarted', v, method: 'rescl', knob: 1e-5, taskIndex: 1, stage: 'combine', totalSteps: 20 },
    { type: 'progress', v, method: 'rescl', knob: 1e-5, taskIndex: 1, stage: 'combine', step: 3, totalSteps: 20, epoch: 0, epochs: 1, loss: 0.9, samplesPerSec: 1, elapsedMs: 1, etaMs: 9 },
  ], { ...INITIAL_LAB_DATA, trainingLambda: 2e-3 });

  it('ends the run in error with a recoverable notice, and keeps results and curves', () => {
    const s = { ...midRun, ...afterWorkerCrash(midRun, crash, 'wasm') };
    expect(s.runState).toBe('error');
    expect(s.runDetail).toBe('the engine worker crashed');
    expect(s.trainingLambda).toBeNull();
    expect(s.errors).toHaveLength(1);
    expect(s.errors[0]).toMatchObject({ code: 'worker-crashed', recoverable: true });
    expect(s.errors[0].message).toBe('engine worker failed: Error: boom (engine.worker.js:1). A fresh engine worker was started (backend: wasm); '
      + 'the results so far are kept, and the interrupted run is offered for resuming from its last finished stage.');
    expect(s.points).toBe(midRun.points);
    expect(s.curves).toBe(midRun.curves);
    expect(s.curves['rescl|0.00001|1|combine']).toHaveLength(1);
    expect(s.stages.map((st) => st.done)).toEqual([true, true]);
    // the fresh worker's `restored` adds the resume offer and does not duplicate the page's own points
    const back = apply([{ type: 'restored', v, points: [point('rescl', 0, 0.5, 0.99)], interrupted: { scenario: 'split-mnist', config: {} as never, lastStage: 'rescl|0' } }], s);
    expect(back.points).toHaveLength(1);
    expect(back.interrupted?.lastStage).toBe('rescl|0');
  });

  it('leaves a finished run as it is and says nothing of resuming', () => {
    const done = apply([{ type: 'state', v, state: 'done', detail: 'finished' }], midRun);
    const patch = afterWorkerCrash(done, crash, 'auto');
    expect(patch.runState).toBeUndefined();
    expect(patch.errors?.[0].message).toMatch(/\(backend: auto\); the results so far are kept\.$/);
  });
});

describe('selectors', () => {
  it('builds the trade-off plane in percent with fronts for knob methods only', () => {
    const series = tradeoffSeries(
      [point('rescl', 1e-4, 0.8, 0.97), point('rescl', 1e-2, 0.97, 0.8), point('rescl', 1e-3, 0.7, 0.7), point('ft', null, 0.2, 0.99)],
      (m) => (m === 'rescl' ? 'λ' : null),
    );
    const rescl = series.find((s) => s.method === 'rescl');
    expect(rescl?.points.map((p) => p.label)).toEqual(['λ=1e-4', 'λ=1e-3', 'λ=1e-2']);
    expect(rescl?.front.map((p) => p.knob)).toEqual([1e-2, 1e-4]);
    expect(rescl?.front[0].source).toBeCloseTo(97);
    expect(series.find((s) => s.method === 'ft')?.front).toEqual([]);
  });

  it('thins long curves but keeps the newest points and every accuracy', () => {
    let c: CurvePoint[] = [];
    for (let i = 0; i < 3 * MAX_CURVE_POINTS; i++) c = appendCurve(c, i % 50 === 0 ? { step: i, loss: 1, acc: { a: 1 } } : { step: i, loss: 1 });
    expect(c.length).toBeLessThanOrEqual(MAX_CURVE_POINTS + 1);
    expect(c[c.length - 1].step).toBe(3 * MAX_CURVE_POINTS - 1);
    expect(c.filter((p) => p.acc).length).toBe(3 * MAX_CURVE_POINTS / 50);
  });

  it('centres histogram bins on the fixed range', () => {
    const bars = histogramBars({ unit: 'fc1', alphaSource: [1, 2, 3], alphaTarget: [0, 0, 4], statsSource: { mean: 0, min: 0, max: 0 }, statsTarget: { mean: 0, min: 0, max: 0 } }, [-1.5, 1.5], 3);
    expect(bars).toEqual([{ x: -1, source: 1, target: 0 }, { x: 0, source: 2, target: 0 }, { x: 1, source: 3, target: 4 }]);
  });
});

describe('α trajectories from progress events', () => {
  const base = { v, method: 'rescl' as const, knob: 1e-3, taskIndex: 1, stage: 'combine' as const, totalSteps: 10, epoch: 0, epochs: 1, loss: 1, samplesPerSec: 1, elapsedMs: 1, etaMs: 1 };
  const alphas = (step: number, s: number) => [{ unit: 'd1', step, meanAbsSource: s, meanAbsTarget: 0.5 }];
  it('collects them per combine stage and starts over when that stage starts again', () => {
    const s = apply([
      { type: 'stageStarted', v, method: 'rescl', knob: 1e-3, taskIndex: 1, stage: 'combine', totalSteps: 10 },
      { type: 'progress', ...base, step: 2, alphas: alphas(1, 0.5).concat(alphas(2, 0.45)) },
      { type: 'progress', ...base, step: 3 },
      { type: 'progress', ...base, step: 4, alphas: alphas(4, 0.4) },
    ]);
    const key = 'rescl|0.001|1|combine';
    expect(s.alphaTrajectories[key].d1.map((p) => [p.step, p.source])).toEqual([[1, 0.5], [2, 0.45], [4, 0.4]]);
    const again = apply([{ type: 'stageStarted', v, method: 'rescl', knob: 1e-3, taskIndex: 1, stage: 'combine', totalSteps: 10 }], s);
    expect(again.alphaTrajectories[key]).toEqual({});
  });

  it('device stats: the latest step stats, the last warm-up time kept; malformed ones refused with a message, the old kept', () => {
    const s = apply([
      { type: 'progress', ...base, step: 1, device: { compileMs: 250 } },
      { type: 'progress', ...base, step: 5, device: { msPerStep: 12.5, dispatchesPerStep: 61, submitsPerStep: 1 } },
    ]);
    expect(s.deviceStats).toEqual({ compileMs: 250, msPerStep: 12.5, dispatchesPerStep: 61, submitsPerStep: 1 });
    const bad = { type: 'progress', ...base, step: 6, device: { msPerStep: -1 } } as unknown as EngineEvent;
    const after = apply([bad], s);
    expect(after.deviceStats).toEqual(s.deviceStats);
    expect(after.stages[0].step).toBe(6);
    expect(after.errors.at(-1)?.message).toMatch(/device statistics.*msPerStep must be a finite number ≥ 0/);
    expect(checkDeviceStats({ msPerStep: NaN })).toMatch(/msPerStep/);
    expect(checkDeviceStats('fast')).toMatch(/must be an object/);
    expect(checkDeviceStats({})).toBeNull();
  });

  it('keeps the progress but not malformed α summaries, and says so once', () => {
    const bad = { type: 'progress', ...base, step: 2, alphas: [{ unit: 'd1', step: 2, meanAbsSource: 'x', meanAbsTarget: 0.5 }] } as unknown as EngineEvent;
    const s = apply([bad, bad]);
    expect(s.stages[0].step).toBe(2);
    expect(s.alphaTrajectories).toEqual({});
    expect(s.errors).toHaveLength(1);
    expect(s.errors[0].message).toMatch(/α summaries.*meanAbsSource must be a finite number/);
  });
});

describe('points over seeds', () => {
  it('draw error bars (percent) only when a point averages more than one seed', () => {
    const one = { ...point('ft', null, 0.5, 0.9), spread: { seeds: 1, source: 0, target: 0, average: 0 } };
    const two = { ...point('lwf', 1, 0.6, 0.8), spread: { seeds: 2, source: 0.02, target: 0.01, average: 0.01 } };
    const series = tradeoffSeries([one, two], (m) => (m === 'lwf' ? 'λ_o' : null));
    const ft = series.find((s) => s.method === 'ft')?.points[0];
    const lwf = series.find((s) => s.method === 'lwf')?.points[0];
    expect(ft?.seeds).toBeUndefined();
    expect(ft?.sourceSd).toBeUndefined();
    expect(lwf?.seeds).toBe(2);
    expect(lwf?.sourceSd).toBeCloseTo(2, 12);
    expect(lwf?.targetSd).toBeCloseTo(1, 12);
  });

  it('format a criterion as mean ± sd with several seeds, as the mean alone with one', () => {
    expect(formatPercentSd(0.8123, 0.0123, 3)).toBe('81.2 ± 1.2 %');
    expect(formatPercentSd(0.8123, 0, 1)).toBe('81.2 %');
    expect(formatPercentSd(0.8123, undefined, undefined)).toBe('81.2 %');
    expect(formatPercentSd(NaN, 0.1, 2)).toBe('—');
  });
});
