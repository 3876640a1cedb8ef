import { expect, test, type Page } from '@playwright/test';
import type { EngineEvent, RunConfig } from '../src/engine/protocol';
import { BASE_ARGS, CHROMIUM_PATH } from '../playwright.config';

// Without --enable-unsafe-webgpu, Linux Chromium exposes navigator.gpu but returns no adapter:
// the engine must say so and fall through to the next backend.
test.use({ launchOptions: { executablePath: CHROMIUM_PATH, args: BASE_ARGS } });

/** Every URL the page and its workers request (the lab must fetch nothing from another origin). */
function trackRequests(page: Page): string[] {
  const urls: string[] = [];
  page.on('request', (r) => urls.push(r.url()));
  return urls;
}

function expectSameOrigin(urls: string[], page: Page): void {
  const origin = new URL(page.url()).origin;
  expect(urls.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('blob:') && !u.startsWith('data:'))).toEqual([]);
}

test('without WebGPU the refusal reason is shown and another backend is used', async ({ page }) => {
  const requests = trackRequests(page);
  await page.goto('/');
  const badge = page.getByTestId('backend.badge');
  await expect(badge).toHaveAttribute('data-state', 'ready');
  // Headless Chromium here (no GPU) still creates a WebGL context, on SwiftShader: a software
  // renderer, which auto skips (wasm trains far faster on a CPU), so it lands on wasm.
  await expect(badge).toHaveAttribute('data-backend', 'wasm');
  const refused = page.getByTestId('backend.refused');
  await expect(refused.locator('li[data-backend="webgpu"]')).toContainText(/no adapter|no navigator\.gpu/);
  await expect(refused.locator('li[data-backend="webgl"]')).toContainText(/software renderer .*SwiftShader/i);
  await expect(refused.locator('li')).toHaveCount(2);
  await expect(page.getByTestId('backend.smoke')).toHaveAttribute('data-ok', 'true');
  expect(requests.filter((u) => u.endsWith('.wasm')).length).toBeGreaterThan(0);
  expectSameOrigin(requests, page);
  await page.screenshot({ path: 'e2e/artifacts/home-no-webgpu.png', fullPage: true });
});

/** A few steps per stage: enough to see the loss move, short enough for a slow shared machine. */
const TINY_CONV4: RunConfig = {
  net: 'conv4', epochs: 1, batchSize: 32, learningRate: 3e-3, alphaLearningRate: 2e-2, weightDecay: 1e-4,
  headWarmupSteps: 1, seed: 1, lambda: 1e-3, methods: ['rescl'], sweep: {}, maxStepsPerStage: 6,
};

test('?backend=wasm: the card says wasm (SIMD binary from this origin) and a tiny conv4 ResCL run trains on it', async ({ page }) => {
  test.setTimeout(240_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const requests = trackRequests(page);
  await page.goto('/?e2e&backend=wasm&trainLimit=100');
  const badge = page.getByTestId('backend.badge');
  await expect(badge).toHaveAttribute('data-state', 'ready');
  await expect(badge).toHaveAttribute('data-backend', 'wasm');
  await expect(page.getByTestId('backend.requested')).toHaveText('wasm');
  await expect(page.getByTestId('backend.what')).toHaveText('WebAssembly on the CPU; used when there is no GPU');
  await expect(page.getByTestId('backend.refused')).toHaveCount(0);
  await expect(page.getByTestId('backend.smoke')).toHaveAttribute('data-ok', 'true');
  // Chromium has WebAssembly SIMD; threads would need cross-origin isolation, which the page lacks.
  expect(await page.evaluate(() => window.crossOriginIsolated)).toBe(false);
  await expect(page.getByTestId('backend.wasm')).toContainText('SIMD, 1 thread');
  await expect(page.getByTestId('backend.wasm')).toContainText('tfjs-backend-wasm-simd.wasm');
  const wasmFiles = requests.filter((u) => u.endsWith('.wasm')).map((u) => new URL(u).pathname.replace(/-[\w-]{8}\.wasm$/, '.wasm'));
  expect(wasmFiles).toEqual(['/assets/tfjs-backend-wasm-simd.wasm']);

  // A second engine worker (the e2e hook) on wasm trains ResCL on a conv4: source, fine-tune, combine.
  await page.waitForFunction(() => window.__resclEngine !== undefined);
  const events = await page.evaluate(async (config) => new Promise<EngineEvent[]>((resolve) => {
    const seen: EngineEvent[] = [];
    const client = window.__resclEngine!.create();
    client.subscribe((e) => {
      seen.push(e);
      if (e.type === 'scenarioLoaded') client.send({ type: 'run', mode: 'rescl' });
      if ((e.type === 'state' && (e.state === 'done' || e.state === 'error')) || (e.type === 'error' && !e.recoverable)) {
        client.terminate();
        resolve(seen);
      }
    });
    client.send({ type: 'hello', backend: 'wasm' });
    client.send({ type: 'configure', config });
    client.send({ type: 'loadScenario', scenario: 'split-mnist', seed: 1, trainLimit: 128, testLimit: 64 });
  }), TINY_CONV4);

  const ready = events.find((e) => e.type === 'ready');
  expect(ready).toMatchObject({ type: 'ready', backend: 'wasm', refused: [] });
  expect(events.filter((e) => e.type === 'error').map((e) => (e.type === 'error' ? `${e.code}: ${e.message}` : ''))).toEqual([]);
  const progress = events.filter((e): e is Extract<EngineEvent, { type: 'progress' }> => e.type === 'progress');
  expect([...new Set(progress.map((p) => p.stage))]).toEqual(['source', 'finetune', 'combine']);
  const sourceLoss = progress.filter((p) => p.stage === 'source').map((p) => p.loss);
  console.log(`[wasm e2e] source loss ${sourceLoss.map((l) => l.toFixed(3)).join(', ')}; samples/s ${progress.map((p) => Math.round(p.samplesPerSec)).join(', ')}`);
  expect(sourceLoss.length).toBeGreaterThanOrEqual(2);
  expect(sourceLoss.every(Number.isFinite)).toBe(true);
  expect(sourceLoss[sourceLoss.length - 1]).toBeLessThan(sourceLoss[0]);
  expect(events.some((e) => e.type === 'tradeoffPoint')).toBe(true);
  expect(events.at(-1)).toMatchObject({ type: 'state', state: 'done' });
  expectSameOrigin(requests, page);
  expect(pageErrors).toEqual([]);
});
