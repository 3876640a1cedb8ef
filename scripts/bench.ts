/**
 * `npm run bench -- [--backend cpu|wasm|webgpu|webgl] [--net mlp,conv4,resnet8] [--stage plain,combined]
 *                   [--batch 128] [--steps 10] [--warmup 2] [--width 1] [--top N] [--stock] [--check] [--browser]`
 *
 * Prints one JSON line per case (src/bench/cases.ts: ms/step median and min, samples/s, tfjs kernels
 * per step, WebGPU queue submissions per step) and a combined/plain ratio per net.
 * `--stock` keeps tfjs's own kernels (the baseline); by default src/kernels' are registered.
 * `--top N` adds the N kernels that took longest in one profiled step. `--check` first trains each
 * case 5 seeded steps with tfjs's kernels and with the lab's and prints how far the losses differ.
 *
 * Where it runs: cpu, wasm and webgpu run here in Node (webgpu through Dawn: the real GPU where
 * Vulkan has one, else SwiftShader with VK_ICD_FILENAMES set). `--browser`, and always `webgl`
 * (Node has no WebGL), run the same code in Chromium instead: scripts/bench-browser.mjs builds the
 * app, serves it and opens `/?bench&...`, whose worker runs src/bench/cases.ts.
 */
import { spawnSync } from 'node:child_process';
import { runBench } from '../src/bench/cases';
import { BENCH_USAGE, BenchOptionError, benchSearch, parseBenchOptions, type BenchOptions } from '../src/bench/options';
import { useBackend } from './backend';

/** `--name value` / `--name=value` / bare `--stock`, `--check` and `--browser` → a name → text record. */
function readArgv(argv: string[]): { raw: Record<string, string>; browser: boolean } {
  const raw: Record<string, string> = {};
  let browser = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') throw new BenchOptionError('');
    if (arg === '--browser') { browser = true; continue; }
    if (arg === '--stock') { raw.stock = '1'; continue; }
    if (arg === '--check') { raw.check = '1'; continue; }
    if (!arg.startsWith('--')) throw new BenchOptionError(`unexpected argument '${arg}'`);
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new BenchOptionError(`flag --${name} needs a value`);
    raw[name] = value;
  }
  return { raw, browser };
}

async function runInNode(options: BenchOptions): Promise<void> {
  if (options.backend === 'webgl') throw new BenchOptionError('webgl runs only in a browser');
  await useBackend(options.backend, { stock: options.stock });
  for await (const line of runBench(options, 'node')) console.log(JSON.stringify(line));
}

function runInBrowser(options: BenchOptions): void {
  const result = spawnSync(process.execPath, ['scripts/bench-browser.mjs', benchSearch(options)], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

async function main(): Promise<void> {
  const { raw, browser } = readArgv(process.argv.slice(2));
  const options = parseBenchOptions(raw);
  if (browser || options.backend === 'webgl') runInBrowser(options);
  else await runInNode(options);
}

main().catch((e: unknown) => {
  if (e instanceof BenchOptionError) {
    console.error(`${e.message ? `${e.message}\n` : ''}usage: ${BENCH_USAGE}`);
    process.exit(2);
  }
  console.error(e);
  process.exit(1);
});
