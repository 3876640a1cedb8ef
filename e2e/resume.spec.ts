/**
 * A reload in the middle of a run: the page offers to resume it, and resuming goes on from the last
 * finished stage (the source network comes back from IndexedDB; it is not trained again).
 */
import { expect, test } from '@playwright/test';
import { METHOD_KNOBS } from '../src/core/names';
import { LabPage } from './fixtures/labPage';

const QUERY = '?scenario=split-mnist&net=mlp&epochs=1&trainLimit=1000&backend=wasm&methods=rescl,ft&seed=7';

test('reload mid-run → "Resume it from there" finishes the run without retraining the source', async ({ page }) => {
  test.setTimeout(5 * 60_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const lab = new LabPage(page);
  await lab.open(QUERY, 'wasm');
  await expect(page.getByTestId('interrupted.notice')).toHaveCount(0);
  await lab.start.click();
  // the source network is finished (and saved) once a later stage has started
  await expect(page.getByTestId('stage.progress')).toHaveAttribute('data-stage', /finetune|combine/, { timeout: 120_000 });
  await page.reload();

  const notice = page.getByTestId('interrupted.notice');
  await expect(notice).toContainText('split-mnist');
  await expect(notice).toContainText('seed 7');
  await expect(notice).toContainText(/after its source network finished|after rescl/);
  await expect(page.getByTestId('interrupted.resume')).toBeEnabled({ timeout: 60_000 });
  await page.screenshot({ path: 'e2e/artifacts/resume-notice.png' });
  await page.getByTestId('interrupted.resume').click();
  await expect(notice).toHaveCount(0);
  await expect(lab.status).toHaveAttribute('data-state', 'done', { timeout: 180_000 });

  const stages = await page.getByLabel('Stage to show').locator('option').allTextContents();
  expect(stages.some((s) => s.startsWith('Source'))).toBe(false);
  expect(stages.some((s) => /^ResCL .* · combine/.test(s))).toBe(true);
  // every point of the run: ResCL's λ sweep and fine-tuning (which reuses the fine-tuned net: no stage of its own)
  await expect(lab.tradeoff).toHaveAttribute('data-points', String((METHOD_KNOBS.rescl?.defaults.length ?? 0) + 1));
  await expect(page.getByTestId('engine.error')).toHaveCount(0);
  expect(pageErrors).toEqual([]);

  // finished: a reload offers nothing to resume
  await page.reload();
  await expect(page.getByTestId('backend.badge')).toHaveAttribute('data-state', 'ready');
  await expect(page.getByTestId('restored.notice')).toBeVisible();
  await expect(page.getByTestId('interrupted.notice')).toHaveCount(0);
});

test('the notice can be dismissed, comes back on reload, and goes once another run starts', async ({ page }) => {
  test.setTimeout(4 * 60_000);
  const lab = new LabPage(page);
  await lab.open(QUERY.replace('seed=7', 'seed=8'), 'wasm');
  await lab.start.click();
  await expect(page.getByTestId('stage.progress')).toHaveAttribute('data-stage', /finetune|combine/, { timeout: 120_000 });
  await page.reload();
  const notice = page.getByTestId('interrupted.notice');
  await expect(notice).toBeVisible();
  await page.getByTestId('interrupted.dismiss').click();
  await expect(notice).toHaveCount(0);
  expect(new URL(page.url()).searchParams.get('seed')).toBe('8');

  await page.reload(); // dismissed is not forgotten: the record is still resumable
  await expect(notice).toBeVisible();
  await expect(lab.start).toBeEnabled({ timeout: 60_000 });
  await lab.start.click(); // a new run replaces the record: nothing stale to resume any more
  await expect(lab.status).toHaveAttribute('data-state', 'running');
  await expect(notice).toHaveCount(0);
  await page.getByTestId('run.stop').click();
  await expect(lab.status).not.toHaveAttribute('data-state', 'running', { timeout: 60_000 });
});
