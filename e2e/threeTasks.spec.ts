/**
 * A three-task run end to end in the browser (MNIST → Fashion-MNIST → rotated MNIST, on wasm, with
 * tiny settings): ResCL combines twice, and the accuracy matrix, the metric suite and the paper's
 * criteria cover all three tasks, every number finite.
 */
import { expect, test } from '@playwright/test';
import { METHOD_KNOBS } from '../src/core/names';
import { LabPage } from './fixtures/labPage';

const QUERY = '?scenario=mnist-fashion-rotated&net=mlp&epochs=1&trainLimit=300&backend=wasm&methods=rescl,ft&seed=5';
const TASKS = ['mnist', 'fashion', 'mnist-rot90'];

test('a 3-task run (mnist-fashion-rotated): a 3×3 accuracy matrix, criteria and metrics without NaN', async ({ page }) => {
  test.setTimeout(4 * 60_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const lab = new LabPage(page);
  await lab.open(QUERY, 'wasm');

  await lab.runToDone(3 * 60_000);
  await expect(page.getByTestId('engine.error')).toHaveCount(0);
  await expect(lab.tradeoff).toHaveAttribute('data-points', String((METHOD_KNOBS.rescl?.defaults.length ?? 0) + 1));

  // ResCL combined on task 2 and again on task 3
  const stages = await page.getByLabel('Stage to show').locator('option').allTextContents();
  expect(stages.some((s) => /^ResCL .* · combine · task 2$/.test(s))).toBe(true);
  expect(stages.some((s) => /^ResCL .* · combine · task 3$/.test(s))).toBe(true);

  // the selected network's accuracy on each of the three tasks
  for (const id of TASKS) {
    const value = Number(await page.getByTestId(`selected.acc.${id}`).getAttribute('data-value'));
    expect(value).toBeGreaterThanOrEqual(0);
    expect(value).toBeLessThanOrEqual(1);
  }

  // R[i][j] after task i on task j: three rows, the last one full, every shown cell a finite fraction
  const matrix = page.getByTestId('acc.matrix');
  await expect(matrix.locator('thead th')).toHaveCount(1 + TASKS.length);
  await expect(matrix.locator('tbody tr')).toHaveCount(TASKS.length);
  await expect(matrix.locator('tbody tr').last().locator('td[data-value]')).toHaveCount(TASKS.length);
  for (const v of await matrix.locator('td[data-value]').evaluateAll((tds) => tds.map((td) => td.getAttribute('data-value')))) {
    expect(Number(v)).toBeGreaterThanOrEqual(0);
    expect(Number(v)).toBeLessThanOrEqual(1);
  }

  // the metric suite and the paper's two criteria: rendered, one row per method, no NaN anywhere
  const metrics = page.getByTestId('metrics.table');
  const criteria = page.getByTestId('criteria.table');
  await expect(metrics).toContainText('%');
  await expect(criteria.locator('tbody tr')).toHaveCount(2);
  for (const row of await criteria.locator('tbody tr').all()) await expect(row.locator('td').first()).toContainText('%');
  for (const table of [metrics, criteria, matrix]) await expect(table).not.toContainText(/NaN|Infinity|undefined/);
  await page.screenshot({ path: 'e2e/artifacts/lab-three-tasks.png', fullPage: true });
  expect(pageErrors).toEqual([]);
});
