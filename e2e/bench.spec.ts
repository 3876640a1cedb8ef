/**
 * The `?bench` page runs src/bench/cases.ts (what `npm run bench` runs in Node) in a worker. Tiny
 * cases only: on this machine WebGPU and WebGL run on SwiftShader (CPU). Times are not asserted;
 * the structure of the output and the WebGPU queue-submission count are.
 */
import { expect, test, type Page } from '@playwright/test';

interface CaseLine { name: string; backend: string; where: string; msPerStepMedian: number; kernelsPerStep: number; deviceSubmissionsPerStep: number | null; gpuDispatchesPerStep: number | null; kernels: string }

const TINY = 'net=mlp&stage=plain,combined&batch=8&steps=2&warmup=1&width=0.1';

async function benchLines(page: Page): Promise<CaseLine[]> {
  const text = (await page.getByTestId('bench.output').textContent()) ?? '';
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as CaseLine);
}

test.describe('?bench page', () => {
  for (const backend of ['webgpu', 'webgl', 'wasm', 'cpu'] as const) {
    test(`measures both stages on ${backend} in the page's worker`, async ({ page }) => {
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.goto(`/?bench&backend=${backend}&${TINY}`);
      await expect(page.getByTestId('bench.status')).toContainText('Done: 2 case(s).', { timeout: 150_000 });
      const lines = await benchLines(page);
      expect(lines.map((l) => l.name)).toEqual(['mlp-plain', 'mlp-combined', 'mlp-combined-vs-plain']);
      for (const line of lines.slice(0, 2)) {
        expect(line.backend).toBe(backend);
        expect(line.where).toBe('browser');
        expect(line.msPerStepMedian).toBeGreaterThan(0);
        // a real training step: the mlp's forward, backward and Adam are a few dozen kernels even
        // fused (29 on webgpu with issue #10's fused kernels and lazy gradients, 133 without)
        expect(line.kernelsPerStep).toBeGreaterThan(20);
        if (backend === 'webgpu') {
          expect(line.deviceSubmissionsPerStep).toBeGreaterThan(0);
          // every submit carries at least one dispatch; Identity/Reshape kernels dispatch nothing
          expect(line.gpuDispatchesPerStep).toBeGreaterThanOrEqual(line.deviceSubmissionsPerStep ?? Infinity);
          expect(line.gpuDispatchesPerStep).toBeLessThan(line.kernelsPerStep);
        } else {
          expect(line.deviceSubmissionsPerStep).toBeNull();
          expect(line.gpuDispatchesPerStep).toBeNull();
        }
      }
      // src/kernels replaces kernels on webgpu and cpu, none on webgl: the label says which ran.
      expect(lines[0].kernels).toBe(backend === 'webgl' ? 'stock' : 'fast');
      await expect(page.getByTestId('bench.table').locator('tbody tr')).toHaveCount(2);
      await expect(page.getByTestId('bench.chart')).toHaveAttribute('data-cases', '2');
      await expect(page.getByTestId('bench.chart').locator('.recharts-bar-rectangle')).toHaveCount(2);
      if (backend === 'webgpu') await page.screenshot({ path: 'e2e/artifacts/bench-webgpu.png', fullPage: true });
      await expect(page.getByTestId('bench.error')).toHaveCount(0);
      expect(pageErrors).toEqual([]);
    });
  }

  test("the lab's footer links to the benchmark on the backend the lab runs on", async ({ page }) => {
    await page.goto('/?backend=wasm');
    await expect(page.getByTestId('backend.badge')).toHaveAttribute('data-backend', 'wasm');
    const link = page.getByTestId('bench.link');
    await expect(link).toHaveAttribute('href', /^\?bench&backend=wasm&/);
    await link.click();
    await expect(page.getByTestId('bench.status')).toContainText(/Running on wasm|Done/, { timeout: 60_000 });
  });

  test('a bad URL says what is wrong and runs nothing', async ({ page }) => {
    await page.goto('/?bench&net=vgg16&batch=8');
    await expect(page.getByTestId('bench.error')).toContainText("net: unknown value 'vgg16'");
    await expect(page.getByTestId('bench.error')).toContainText('Nothing was run');
    await expect(page.getByTestId('bench.table')).toHaveCount(0);
    await expect(page.getByTestId('bench.output')).toHaveText('');
  });
});
