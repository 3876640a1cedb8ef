/**
 * `npm run bench -- [--backend cpu|wasm|webgpu|webgl] [--net mlp,conv4,resnet8] [--stage plain,combined]
 *                   [--batch 128] [--steps 10] [--warmup 2] [--width 1] [--top N] [--stock] [--check] [--browser]`
 *
 * Prints one JSON line per case (src/bench/cases.ts: ms/step median and min, samples/s, tfjs kernels
 * per step, WebGPU queue submissions per step) and a combined/plain ratio per net.
 * `--stock` keeps tfjs's own kernels (the baseline); by default src/kernels' are registered.
 * `--top N` adds the N kernels that took longest in one profiled step. `--check` first trains each
 * case 20 seeded steps with tfjs's kernels and with the lab's and prints how far the losses differ.
 *
 * Where it runs: cpu, wasm and webgpu run here in Node (webgpu through Dawn: the real GPU where
 * Vulkan has one, else SwiftShader with VK_ICD_FILENAMES set). `--browser`, and always `webgl`
 * (Node has no WebGL), run the same code in Chromium instead: scripts/bench-browser.mjs builds the
 * app, serves it and opens `/?bench&...`, whose worker runs src/bench/cases.ts.
 */
import { spawnSync } from 'node:child_process';
import { runBench } from '../src/bench/cases';
import { BENCH_OPTION_NAMES, BENCH_USAGE, BenchOptionError, benchSearch, parseBenchOptions, type BenchOptions } from '../src/bench/options';
import { useBackend } from './backend';
import { parseFlags, UsageError } from './cli';

/** Bare switches; every other option is `--name value` or `--name=value` (scripts/cli.ts parses those). */
const SWITCHES = ['--stock', '--check', '--browser'];

/** argv → the name → text record `parseBenchOptions` validates, and whether to run in the browser. */
function readArgv(argv: string[]): { raw: Record<string, string>; browser: boolean } {
  const valued = BENCH_OPTION_NAMES.filter((name) => !SWITCHES.includes(`--${name}`));
  const flags = parseFlags(argv.filter((a) => !SWITCHES.includes(a)), Object.fromEntries(valued.map((name) => [name, { kind: 'optional-string' as const }])), `usage: ${BENCH_USAGE}`);
  const raw: Record<string, string> = {};
  for (const [name, value] of Object.entries(flags)) if (typeof value === 'string') raw[name] = value;
  if (argv.includes('--stock')) raw.stock = '1';
  if (argv.includes('--check')) raw.check = '1';
  return { raw, browser: argv.includes('--browser') };
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
  if (e instanceof UsageError) {
    console.error(e.message);
    process.exit(2);
  }
  if (e instanceof BenchOptionError) {
    console.error(`${e.message ? `${e.message}\n` : ''}usage: ${BENCH_USAGE}`);
    process.exit(2);
  }
  console.error(e);
  process.exit(1);
});
