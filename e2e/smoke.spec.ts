import { mkdirSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';

const ARTIFACTS = 'e2e/artifacts';
mkdirSync(ARTIFACTS, { recursive: true });

/** Collects uncaught page errors so each test can assert there were none. */
function trackPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  return errors;
}

test.describe('lab foundation', () => {
  test('page loads and the engine worker gets WebGPU when asked for it (launched with --enable-unsafe-webgpu)', async ({ page }) => {
    const pageErrors = trackPageErrors(page);
    // By name: on this machine the only adapter is SwiftShader, which auto skips (next test).
    await page.goto('/?backend=webgpu');
    await expect(page).toHaveTitle('ResCL Lab');
    await expect(page.getByRole('heading', { name: 'ResCL Lab' })).toBeVisible();

    const badge = page.getByTestId('backend.badge');
    await expect(badge).toHaveAttribute('data-state', 'ready');
    await expect(badge).toHaveAttribute('data-backend', 'webgpu');
    await expect(badge).toHaveText('WebGPU');

    // The backend really computes: matMul and an AddN of 9 tensors (10 storage buffers).
    const smoke = page.getByTestId('backend.smoke');
    await expect(smoke).toHaveAttribute('data-ok', 'true');
    await expect(smoke).toContainText('[19, 22, 43, 50]');
    await expect(page.getByTestId('backend.adapter')).not.toBeEmpty();

    // No uncaptured WebGPU error / device loss (or any other engine error), no page errors.
    await expect(page.getByTestId('engine.error')).toHaveCount(0);
    expect(pageErrors).toEqual([]);
    await page.screenshot({ path: `${ARTIFACTS}/home-webgpu-1280x720.png`, fullPage: true });
  });

  test('auto skips a software GPU (SwiftShader here) for wasm and says why', async ({ page }) => {
    const pageErrors = trackPageErrors(page);
    await page.goto('/');
    const badge = page.getByTestId('backend.badge');
    await expect(badge).toHaveAttribute('data-state', 'ready');
    // This machine has no GPU: WebGPU and WebGL exist only as SwiftShader, a CPU emulation.
    await expect(badge).toHaveAttribute('data-backend', 'wasm');
    const refused = page.getByTestId('backend.refused');
    await expect(refused.locator('li[data-backend="webgpu"]')).toContainText(/software adapter .*swiftshader.*\?backend=webgpu/i);
    await expect(refused.locator('li[data-backend="webgl"]')).toContainText(/software renderer .*SwiftShader/i);
    await expect(page.getByTestId('backend.smoke')).toHaveAttribute('data-ok', 'true');
    await expect(page.getByTestId('engine.error')).toHaveCount(0);
    expect(pageErrors).toEqual([]);
    await page.screenshot({ path: `${ARTIFACTS}/home-auto-1280x720.png`, fullPage: true });
  });

  test('?backend=cpu forces the cpu backend', async ({ page }) => {
    const pageErrors = trackPageErrors(page);
    await page.goto('/?backend=cpu');
    const badge = page.getByTestId('backend.badge');
    await expect(badge).toHaveAttribute('data-backend', 'cpu');
    await expect(badge).toHaveText('CPU');
    await expect(page.getByTestId('backend.requested')).toHaveText('cpu');
    await expect(page.getByTestId('backend.smoke')).toHaveAttribute('data-ok', 'true');
    await expect(page.getByTestId('backend.refused')).toHaveCount(0);
    await expect(page.getByTestId('backend.notice')).toHaveCount(0);
    await expect(page.getByTestId('engine.error')).toHaveCount(0);
    expect(pageErrors).toEqual([]);
  });

  test('?backend=webgl forces WebGL (OffscreenCanvas in the worker)', async ({ page }) => {
    await page.goto('/?backend=webgl');
    const badge = page.getByTestId('backend.badge');
    await expect(badge).toHaveAttribute('data-state', 'ready');
    await expect(badge).toHaveAttribute('data-backend', 'webgl');
    await expect(page.getByTestId('backend.requested')).toHaveText('webgl');
    await expect(page.getByTestId('backend.smoke')).toHaveAttribute('data-ok', 'true');
    await expect(page.getByTestId('engine.error')).toHaveCount(0);
  });

  test('an invalid ?backend= falls back to auto with a visible notice (phone, dark theme)', async ({ page }) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto('/?backend=metal');
    await expect(page.getByTestId('backend.notice')).toBeVisible();
    await expect(page.getByTestId('backend.notice')).toContainText('Unknown backend "metal"');
    await expect(page.getByTestId('backend.requested')).toHaveText('auto');
    await expect(page.getByTestId('backend.badge')).toHaveAttribute('data-backend', 'wasm'); // auto, here
    await expect(page.getByTestId('engine.error')).toHaveCount(0);
    // Dark theme is applied from prefers-color-scheme.
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg).toBe('rgb(15, 17, 21)');
    await page.screenshot({ path: `${ARTIFACTS}/home-phone-dark.png`, fullPage: true });
  });
});
