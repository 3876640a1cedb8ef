import { defineConfig, devices } from '@playwright/test';

/**
 * e2e tests run a system Chromium (Playwright does not download browsers here). In headless
 * Chromium on a machine without a GPU, WebGPU runs on SwiftShader (CPU), ~1000x slower than a GPU,
 * hence the long timeouts.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PORT = Number(process.env.E2E_PORT ?? 4173);

/** Flags every run needs: root in a container, and a closed network that refuses Chrome's own traffic. */
export const BASE_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
/** Exposes WebGPU on Linux (on SwiftShader where there is no GPU driver), in pages and workers. */
export const WEBGPU_ARGS = ['--enable-unsafe-webgpu'];

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  outputDir: 'test-results',
  timeout: 180_000,
  expect: { timeout: 120_000 },
  retries: 0,
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  reporter: process.env.CI ? [['list'], ['html', { open: 'never' }]] : [['list']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    headless: true,
    viewport: { width: 1280, height: 720 },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: CHROMIUM_PATH,
      args: [...BASE_ARGS, ...WEBGPU_ARGS],
    },
  },
  projects: [{ name: 'chromium', use: { ...devices['Desktop Chrome'], viewport: { width: 1280, height: 720 } } }],
  webServer: {
    // A production build served by `vite preview`: no dev-server dependency re-optimisation
    // reloading the page mid-test, and it is what users get.
    command: `npx vite build --logLevel warn && npx vite preview --host 127.0.0.1 --port ${PORT} --strictPort`,
    url: `http://127.0.0.1:${PORT}`,
    reuseExistingServer: !process.env.CI,
    timeout: 240_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
