/**
 * The engine worker dies in the middle of a run (an uncaught error in the worker, which reaches the
 * page's Worker 'error' event): the page says so, terminates it and starts a fresh worker on the
 * same backend, keeps the results and curves it has, and offers to resume the run from its last
 * finished stage (the same offer as after a reload, see resume.spec.ts); resuming finishes the run.
 */
import { expect, test, type Worker } from '@playwright/test';
import { METHOD_KNOBS } from '../src/core/names';
import { LabPage } from './fixtures/labPage';

const QUERY = '?scenario=split-mnist&net=mlp&epochs=1&trainLimit=300&backend=wasm&methods=rescl,ft&seed=11';

test('the engine worker crashes mid-run → a fresh worker, the results kept, "Resume it from there" finishes the run', async ({ page }) => {
  test.setTimeout(3 * 60_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const lab = new LabPage(page);
  await lab.open(QUERY, 'wasm');
  const workers: Worker[] = page.workers();
  expect(workers).toHaveLength(1); // the engine (tfjs-wasm runs one thread here: no pthread workers)
  const [crashed] = workers;

  // mid-run, with a finished result: paused there, so the crash lands before the run can finish
  await lab.start.click();
  await expect(lab.tradeoff).not.toHaveAttribute('data-points', '0', { timeout: 120_000 });
  await page.getByTestId('run.pause').click();
  await expect(lab.status).toHaveAttribute('data-state', 'paused');
  const pointsBefore = Number(await lab.tradeoff.getAttribute('data-points'));
  const stageOptions = page.getByLabel('Stage to show').locator('option');
  const stagesBefore = await stageOptions.allTextContents();
  expect(pointsBefore).toBeGreaterThan(0);

  let terminated = false;
  crashed.once('close', () => { terminated = true; });
  await crashed.evaluate(() => {
    setTimeout(() => { throw new Error('boom: the engine worker dies'); });
  });
  await expect.poll(() => terminated, { message: 'the page terminates the crashed worker', timeout: 30_000 }).toBe(true);
  await expect.poll(() => page.workers().length, { message: 'and starts a fresh one', timeout: 30_000 }).toBe(1);
  expect(page.workers()[0]).not.toBe(crashed);

  // a clear notice; the run ended; everything finished before the crash still shown
  const error = lab.errorBanner.getByTestId('engine.error'); // (the backend card lists engine errors too)
  await expect(error).toHaveCount(1);
  await expect(error).toHaveAttribute('data-code', 'worker-crashed');
  await expect(error).toContainText('boom: the engine worker dies');
  await expect(error).toContainText('A fresh engine worker was started (backend: wasm)');
  await expect(error).not.toContainText('reload the page');
  await expect(lab.status).toHaveAttribute('data-state', 'error');
  await expect(page.getByTestId('backend.badge')).toHaveAttribute('data-backend', 'wasm');
  await expect(lab.tradeoff).toHaveAttribute('data-points', String(pointsBefore));
  expect(await stageOptions.allTextContents()).toEqual(stagesBefore);
  await expect(page.getByTestId('restored.notice')).toHaveCount(0); // the page's own results, not an earlier session's

  // the resume offer, and resuming finishes the run from its last finished stage
  const notice = page.getByTestId('interrupted.notice');
  await expect(notice).toContainText('split-mnist');
  await expect(notice).toContainText('seed 11');
  await expect(notice).toContainText(/after (rescl|ft)/);
  await expect(page.getByTestId('interrupted.resume')).toBeEnabled({ timeout: 60_000 });
  await page.screenshot({ path: 'e2e/artifacts/crash-resume-notice.png', fullPage: true });
  // every stage the resumed run shows, as it shows it
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { seenStages: string[] }).seenStages = seen;
    const el = document.querySelector('[data-testid="stage.progress"]') as Element;
    new MutationObserver(() => seen.push(el.getAttribute('data-stage') ?? '')).observe(el, { attributes: true, attributeFilter: ['data-stage', 'data-step'] });
  });
  await page.getByTestId('interrupted.resume').click();
  await expect(notice).toHaveCount(0);
  await expect(lab.status).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  // every point of the run: ResCL's λ sweep and fine-tuning; the source network was not trained again
  await expect(lab.tradeoff).toHaveAttribute('data-points', String((METHOD_KNOBS.rescl?.defaults.length ?? 0) + 1));
  const seenStages = await page.evaluate(() => (window as unknown as { seenStages: string[] }).seenStages);
  expect(seenStages).toContain('combine');
  expect(seenStages).not.toContain('source');
  await expect(error).toHaveCount(1); // the crash notice, nothing new
  expect(pageErrors).toEqual([]);
});
