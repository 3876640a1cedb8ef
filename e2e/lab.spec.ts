import { mkdirSync, readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import type * as tfjs from '@tensorflow/tfjs';
import { LabPage } from './fixtures/labPage';

const ARTIFACTS = 'e2e/artifacts';
mkdirSync(ARTIFACTS, { recursive: true });

// wasm: what a visitor without a GPU gets from auto (SwiftShader is skipped), and the fastest on this CPU
const QUERY = '?scenario=split-mnist&net=mlp&epochs=1&trainLimit=1000&backend=wasm';

interface FoldedFile {
  format: string;
  version: number;
  modelTopology: unknown;
  weightSpecs: unknown[];
  weightData: string;
  tasks: { id: string; name: string; classNames: string[] }[];
  provenance: { scenario: string; net: string; seed: number; lambda: number; accByTask: Record<string, number>; foldMaxAbsDiff: number; paramCount: number };
}

test.describe.serial('the lab, end to end on the wasm backend', () => {
  test('run → λ slider → export both forms → reload the JSON with stock tfjs → import a bad file', async ({ page }) => {
    test.setTimeout(6 * 60_000); // wasm on a 2-core machine: ~40 s alone (it was ~6 min on tfjs-cpu), more when shared
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const lab = new LabPage(page);
    await lab.open(QUERY, 'wasm');

    // 1. the whole pipeline, live
    await lab.start.click();
    await expect(lab.status).toHaveAttribute('data-state', 'running');
    await expect(page.getByTestId('stage.progress')).not.toHaveAttribute('data-stage', '');
    await expect(lab.status).toHaveAttribute('data-state', 'done', { timeout: 9 * 60_000 });
    await expect(page.getByTestId('engine.error')).toHaveCount(0);
    const pointsAfterRun = Number(await lab.tradeoff.getAttribute('data-points'));
    expect(pointsAfterRun).toBeGreaterThanOrEqual(6);
    await expect(page.getByTestId('alpha.histogram')).not.toHaveAttribute('data-layers', '0');
    await expect(page.getByTestId('acc.matrix').locator('td').first()).toBeVisible();
    await page.screenshot({ path: `${ARTIFACTS}/lab-done-1280x720.png`, fullPage: true });

    // 2. the λ slider, with the keyboard: the selected point and its numbers change at once
    expect(await lab.selectedLambda()).toBeCloseTo(1e-3, 9);
    // the numbers at full precision (two networks can round to the same 0.1 %)
    const numbers = async () => Promise.all(['mnist-0-4', 'mnist-5-9'].map((id) => page.getByTestId(`selected.acc.${id}`).getAttribute('data-value')));
    const before = { ring: await lab.tradeoff.getAttribute('data-selected'), numbers: await numbers() };
    await lab.slider.focus();
    for (let i = 0; i < 8; i++) await page.keyboard.press('ArrowLeft'); // 1e-3 → 1e-5 (4 notches per decade)
    await expect(page.getByTestId('lambda.value')).toHaveText('λ = 1e-5');
    await expect(lab.selected).toHaveAttribute('data-lambda', '0.00001');
    const after = { ring: await lab.tradeoff.getAttribute('data-selected'), numbers: await numbers() };
    expect(after.ring).not.toBe(before.ring);
    expect(after.numbers).not.toEqual(before.numbers);
    expect(page.url()).toContain('lambda=0.00001');

    // 3. letting go between finished points trains one network, warm-started
    await page.keyboard.press('ArrowRight'); // 1.78e-5: no network there yet
    await expect(lab.status).toHaveAttribute('data-state', 'running', { timeout: 30_000 });
    await expect(lab.status).toHaveAttribute('data-state', 'done', { timeout: 2 * 60_000 });
    await expect(lab.tradeoff).toHaveAttribute('data-points', String(pointsAfterRun + 1));
    await expect(lab.selected).toHaveAttribute('data-lambda', '0.0000178');

    // 4. export both forms
    const lambda = await lab.selectedLambda();
    const [jsonDownload] = await lab.exportFiles('export.json', 1);
    const jsonPath = `${ARTIFACTS}/${jsonDownload.suggestedFilename()}`;
    await jsonDownload.saveAs(jsonPath);
    const folded = JSON.parse(readFileSync(jsonPath, 'utf8')) as FoldedFile;
    expect(folded.format).toBe('rescl-folded');
    expect(folded.version).toBe(1);
    expect(folded.provenance).toMatchObject({ scenario: 'split-mnist', net: 'mlp', seed: 1 });
    expect(folded.provenance.lambda).toBeCloseTo(lambda, 12);
    expect(folded.provenance.foldMaxAbsDiff).toBeLessThan(1e-3);
    expect(folded.tasks.map((t) => t.id)).toEqual(['mnist-0-4', 'mnist-5-9']);

    const tfjsFiles = await lab.exportFiles('export.tfjs', 2);
    const names = tfjsFiles.map((d) => d.suggestedFilename()).sort();
    expect(names.some((n) => n.endsWith('.json'))).toBe(true);
    expect(names.some((n) => n.endsWith('.bin'))).toBe(true);
    for (const d of tfjsFiles) await d.saveAs(`${ARTIFACTS}/${d.suggestedFilename()}`);

    // 5. the exported JSON loads with stock tf.loadLayersModel and scores what the page reported
    const reported: Record<string, number> = {};
    for (const { id } of folded.tasks) reported[id] = Number(await page.getByTestId(`selected.acc.${id}`).getAttribute('data-value'));
    await page.addScriptTag({ path: 'node_modules/@tensorflow/tfjs/dist/tf.min.js' });
    const measured = await page.evaluate(async (file: FoldedFile) => {
      const tf = (window as unknown as { tf: typeof tfjs }).tf;
      await tf.setBackend('cpu');
      const bin = atob(file.weightData);
      const weightData = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) weightData[i] = bin.charCodeAt(i);
      const model = await tf.loadLayersModel(tf.io.fromMemory({
        modelTopology: file.modelTopology as object, weightSpecs: file.weightSpecs as never, weightData: weightData.buffer,
      }));
      const fetchU8 = async (name: string) => new Uint8Array(await (await fetch(`/data/${name}`)).arrayBuffer());
      const images = await fetchU8('mnist-test-images.u8');
      const labels = await fetchU8('mnist-test-labels.u8');
      const tasks = [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]];
      const acc: number[] = [];
      for (const [t, classes] of tasks.entries()) {
        const idx: number[] = [];
        for (let i = 0; i < labels.length; i++) if (classes.includes(labels[i])) idx.push(i);
        const x = new Float32Array(idx.length * 784);
        idx.forEach((i, k) => { for (let p = 0; p < 784; p++) x[k * 784 + p] = images[i * 784 + p] / 255; });
        const out = tf.tidy(() => {
          const outputs = model.predict(tf.tensor4d(x, [idx.length, 28, 28, 1])) as tfjs.Tensor[];
          return outputs[t].argMax(-1);
        });
        const pred = await out.data();
        out.dispose();
        let correct = 0;
        idx.forEach((i, k) => { if (pred[k] === labels[i] - classes[0]) correct++; });
        acc.push(correct / idx.length);
      }
      return acc;
    }, folded);
    expect(Math.abs(measured[0] - reported['mnist-0-4'])).toBeLessThanOrEqual(0.005);
    expect(Math.abs(measured[1] - reported['mnist-5-9'])).toBeLessThanOrEqual(0.005);

    // 6. a corrupted file: error.banner, the run and its results intact
    const sourceShown = await page.getByTestId('selected.source').textContent();
    await page.getByTestId('import.file').setInputFiles({ name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from('{"format":"rescl-folded","version":1,"modelTopology":') });
    await expect(lab.errorBanner).toBeVisible();
    await expect(lab.errorBanner).toHaveAttribute('data-code', 'bad-file');
    await expect(lab.status).toHaveAttribute('data-state', 'done');
    await expect(lab.tradeoff).toHaveAttribute('data-points', String(pointsAfterRun + 1));
    await expect(page.getByTestId('selected.source')).toHaveText(sourceShown ?? '');

    // 7. the good file imports back and scores like the page said
    await page.getByTestId('import.file').setInputFiles(jsonPath);
    await expect(page.getByTestId('import.result')).toBeVisible();
    await page.screenshot({ path: `${ARTIFACTS}/lab-after-import.png`, fullPage: true });

    // 8. results survive a reload (the engine's IndexedDB store answers `restore`)
    await page.reload();
    await expect(page.getByTestId('restored.notice')).toBeVisible();
    await expect(lab.tradeoff).toHaveAttribute('data-points', String(pointsAfterRun + 1));
    expect(pageErrors).toEqual([]);
  });

  test('the setup in the URL: out-of-range values are clamped with a notice (phone, dark)', async ({ page }) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto('/?scenario=nope&epochs=900&lambda=7&backend=cpu&baselineBn=frozen-source&combineDecay=bias');
    await expect(page.getByTestId('url.notice')).toContainText('Unknown scenario "nope"');
    await expect(page.getByTestId('url.notice')).toContainText('epochs=900 is out of range');
    // the comparison settings: a known value is selected, an unknown one keeps the default with a notice
    await expect(page.getByTestId('setup.baselineBatchNorm')).toHaveValue('frozen-source');
    await expect(page.getByTestId('url.notice')).toContainText('Unknown combineDecay "bias" in the URL; using kernels.');
    await expect(page.getByTestId('setup.combineDecay')).toHaveValue('kernels');
    await expect(page.getByTestId('lambda.value')).toHaveText('λ = 1e-1');
    await expect(page.getByTestId('backend.badge')).toHaveAttribute('data-backend', 'cpu');
    await page.screenshot({ path: `${ARTIFACTS}/lab-phone-dark.png`, fullPage: true });
  });

  test('WebGPU smoke run: the first stage trains on WebGPU', async ({ page }) => {
    test.setTimeout(4 * 60_000);
    const lab = new LabPage(page);
    await lab.open('?scenario=split-mnist&net=mlp&epochs=1&trainLimit=200&backend=webgpu&methods=rescl', 'webgpu');
    await lab.start.click();
    const progress = page.getByTestId('stage.progress');
    await expect(progress).not.toHaveAttribute('data-step', '0', { timeout: 3 * 60_000 });
    // the backend card shows the pipeline warm-up's time and, from the second report on, the GPU
    // dispatches per step the run driver counted (a whole number > 0)
    await expect(page.getByTestId('backend.compile')).toContainText(/\d+ ms/);
    await expect(page.getByTestId('backend.step')).toHaveAttribute('data-dispatches', /^[1-9]\d*$/, { timeout: 3 * 60_000 });
    await page.getByTestId('run.stop').click();
    await expect(lab.status).not.toHaveAttribute('data-state', 'running', { timeout: 60_000 });
    await expect(lab.status).not.toHaveAttribute('data-state', 'error');
    await expect(page.getByTestId('engine.error')).toHaveCount(0);
  });
});
