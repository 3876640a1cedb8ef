#!/usr/bin/env node
// Runs a TypeScript entry point under Node: bundles it with esbuild into .scripts-build/ and runs it.
// Bundling (with `module` before `main`) makes Node use tfjs's ESM builds, which we measured 3-4x
// faster than the ES5 `main` builds Node would pick by itself. Usage: node scripts/run-ts.mjs FILE.ts [args]
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run-ts.mjs FILE.ts [args...]');
  process.exit(2);
}
const outDir = '.scripts-build';
mkdirSync(outDir, { recursive: true });
const outfile = path.join(outDir, path.basename(entry).replace(/\.ts$/, '.bundle.mjs'));
await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  mainFields: ['module', 'main'],
  external: ['webgpu'],
  logLevel: 'warning',
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; import { fileURLToPath as __f2p } from 'node:url';"
      + ' const require = __cr(import.meta.url); const __filename = __f2p(import.meta.url);'
      + " const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
  },
});
const result = spawnSync(process.execPath, [outfile, ...args], { stdio: 'inherit' });
process.exit(result.status ?? 1);
