import { expect, test } from '@playwright/test';
import type { EngineEvent } from '../src/engine/protocol';

/**
 * The real engine worker in Chromium on WebGPU (SwiftShader here, so tiny): a ResCL run on an mlp
 * with a few steps per stage. Also measures what the issue asks as a benchmark (printed, not
 * asserted): main-thread long tasks during training, events per second.
 */
test('the engine worker trains on WebGPU: backend webgpu, no uncaptured GPU error, the loss decreases', async ({ page }) => {
  test.setTimeout(300_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto('/?e2e&backend=cpu'); // the page's own engine on cpu, so it does not compete for SwiftShader
  await page.waitForFunction(() => window.__resclEngine !== undefined);
  await page.evaluate(() => {
    const w = window as unknown as { __e2e: { events: EngineEvent[]; times: number[]; longTasks: number[]; t0: number; t1: number } };
    const state = { events: [] as EngineEvent[], times: [] as number[], longTasks: [] as number[], t0: 0, t1: 0 };
    w.__e2e = state;
    new PerformanceObserver((list) => { for (const e of list.getEntries()) state.longTasks.push(e.duration); }).observe({ type: 'longtask', buffered: false });
    const client = window.__resclEngine!.create();
    client.subscribe((e) => {
      state.events.push(e);
      state.times.push(performance.now());
      if (e.type === 'scenarioLoaded') { state.t0 = performance.now(); client.send({ type: 'run', mode: 'rescl' }); }
      if ((e.type === 'state' && (e.state === 'done' || e.state === 'error')) || e.type === 'error') { state.t1 = performance.now(); client.terminate(); }
    });
    client.send({ type: 'hello', backend: 'webgpu' });
    client.send({
      type: 'configure',
      config: { net: 'mlp', epochs: 1, batchSize: 32, learningRate: 3e-3, alphaLearningRate: 2e-2, weightDecay: 1e-4, headWarmupSteps: 1, seed: 1, lambda: 1e-3, methods: ['rescl'], sweep: {}, maxStepsPerStage: 6 },
    });
    client.send({ type: 'loadScenario', scenario: 'split-mnist', seed: 1, trainLimit: 128, testLimit: 64 });
  });
  type Snapshot = { events: EngineEvent[]; longTasks: number[]; t0: number; t1: number };
  let snap: Snapshot = { events: [], longTasks: [], t0: 0, t1: 0 };
  const deadline = Date.now() + 270_000;
  let lastLogged = 0;
  while (Date.now() < deadline) {
    snap = await page.evaluate(() => (window as unknown as { __e2e: Snapshot }).__e2e);
    if (snap.t1 > 0) break;
    if (snap.events.length !== lastLogged) {
      lastLogged = snap.events.length;
      const e = snap.events[snap.events.length - 1];
      console.log(`[engine e2e] ${snap.events.length} events, last: ${JSON.stringify(e).slice(0, 160)}`);
    }
    await page.waitForTimeout(2000);
  }
  const result = { events: snap.events, longTasks: snap.longTasks, seconds: (snap.t1 - snap.t0) / 1000 };
  const events = result.events;
  const ready = events.find((e) => e.type === 'ready');
  const errors = events.filter((e) => e.type === 'error');
  const sourceLoss = events.filter((e): e is Extract<EngineEvent, { type: 'progress' }> => e.type === 'progress' && e.stage === 'source').map((e) => e.loss);
  const point = events.find((e) => e.type === 'tradeoffPoint');
  const runEvents = events.filter((e) => e.type !== 'ready' && e.type !== 'scenarioLoaded').length;
  console.log(`[engine e2e] backend=${ready?.type === 'ready' ? ready.backend : '?'} run=${result.seconds.toFixed(1)}s events=${runEvents} (${(runEvents / result.seconds).toFixed(1)}/s) longTasks=${JSON.stringify(result.longTasks.map(Math.round))} sourceLoss=${sourceLoss.map((l) => l.toFixed(3)).join(',')}`);
  expect(ready).toMatchObject({ type: 'ready', backend: 'webgpu' });
  expect(errors.map((e) => (e.type === 'error' ? `${e.code}: ${e.message}` : ''))).toEqual([]);
  expect(sourceLoss.length).toBeGreaterThanOrEqual(2);
  expect(sourceLoss[sourceLoss.length - 1]).toBeLessThan(sourceLoss[0]);
  expect(point).toBeTruthy();
  // Long tasks and events per second are benchmark numbers (printed above), not assertions: they
  // depend on how busy the machine is.
  expect(pageErrors).toEqual([]);
});
