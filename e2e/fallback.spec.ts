import { expect, test } from '@playwright/test';
import { BASE_ARGS, CHROMIUM_PATH } from '../playwright.config';

// Without --enable-unsafe-webgpu, Linux Chromium exposes navigator.gpu but returns no adapter:
// the engine must say so and fall through to the next backend.
test.use({ launchOptions: { executablePath: CHROMIUM_PATH, args: BASE_ARGS } });

test('without WebGPU the refusal reason is shown and another backend is used', async ({ page }) => {
  await page.goto('/');
  const badge = page.getByTestId('backend.badge');
  await expect(badge).toHaveAttribute('data-state', 'ready');
  await expect(badge).not.toHaveAttribute('data-backend', 'webgpu');
  await expect(badge).toHaveAttribute('data-backend', /^(webgl|cpu)$/);
  const refusedWebgpu = page.getByTestId('backend.refused').locator('li[data-backend="webgpu"]');
  await expect(refusedWebgpu).toContainText(/no adapter|no navigator\.gpu/);
  await expect(page.getByTestId('backend.smoke')).toHaveAttribute('data-ok', 'true');
  await page.screenshot({ path: 'e2e/artifacts/home-no-webgpu.png', fullPage: true });
});
