import { expect, test } from '@playwright/test';
import { LabPage } from './fixtures/labPage';

// a tiny two-seed run on wasm: ResCL (live λ and its sweep) and fine-tuning, 200 images per task, 1 epoch
const QUERY = '?scenario=split-mnist&net=mlp&methods=rescl,ft&epochs=1&trainLimit=200&seeds=1,2&backend=wasm';

test.describe('the lab over several seeds', () => {
  test('a bad seed list gets a notice; a 2-seed run says which seed trains and draws error bars and mean ± sd', async ({ page }) => {
    test.setTimeout(8 * 60_000); // two seeds of the plan on a shared 2-core machine
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const lab = new LabPage(page);

    // a seed list with an unusable entry: what is kept and what is left out, said in words
    await lab.open(QUERY.replace('seeds=1,2', 'seeds=1,x,1'), 'wasm');
    await expect(page.getByTestId('url.notice')).toContainText('seeds=1,x,1: "x" is not a whole number');
    await expect(page.getByTestId('url.notice')).toContainText('using seeds 1');
    await expect(page.getByTestId('setup.seeds')).toHaveValue('1');

    await lab.open(QUERY, 'wasm');
    await expect(page.getByTestId('url.notice')).toHaveCount(0);
    await expect(page.getByTestId('setup.seeds')).toHaveValue('1,2');
    await lab.start.click();
    await expect(lab.status).toHaveAttribute('data-state', 'running');
    // the second seed trains: progress and the run's detail say so
    await expect(page.getByTestId('stage.seed')).toContainText('2 of 2', { timeout: 6 * 60_000 });
    await expect(lab.status).toContainText('seed 2 (2 of 2)');
    await expect(lab.status).toHaveAttribute('data-state', 'done', { timeout: 6 * 60_000 });
    await expect(page.getByTestId('engine.error')).toHaveCount(0);

    // every point is a mean over both seeds, drawn with error bars
    await expect(lab.tradeoff).toHaveAttribute('data-seeds', '2');
    expect(Number(await lab.tradeoff.getAttribute('data-points'))).toBeGreaterThanOrEqual(2);
    // one whisker group per point and axis (the chart's own class on each)
    const bars = lab.tradeoff.locator('.recharts-errorBars .error-bar');
    expect(await bars.count()).toBeGreaterThanOrEqual(2);
    await expect(page.getByTestId('criteria.table')).toContainText('±');
    // the metric suite of the shown network, over seeds; FWT undefined here, with why
    await expect(page.getByTestId('metrics.table')).toContainText('±');
    await expect(page.getByTestId('metrics.table')).toContainText('single-task reference');
    await page.screenshot({ path: 'e2e/artifacts/lab-seeds-1280x720.png', fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
