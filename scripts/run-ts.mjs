#!/usr/bin/env node
// Runs a TypeScript entry point under Node: bundles it with esbuild into .scripts-build/ and runs it.
// Bundling (with `module` before `main`) makes Node use tfjs's ESM builds, which we measured 3-4x
// faster than the ES5 `main` builds Node would pick by itself. Usage: node scripts/run-ts.mjs FILE.ts [args]
// `node scripts/run-ts.mjs --bundle-to OUT.mjs FILE.ts` only writes the bundle (e.g. to carry it to a
// GPU machine that has node but no node_modules: scripts/gpu/make-kit.sh).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

const argv = process.argv.slice(2);
const bundleTo = argv[0] === '--bundle-to' ? argv[1] : null;
const [entry, ...args] = bundleTo ? argv.slice(2) : argv;
if (!entry) {
  console.error('usage: node scripts/run-ts.mjs FILE.ts [args...]');
  process.exit(2);
}
const outDir = '.scripts-build';
mkdirSync(outDir, { recursive: true });
const outfile = bundleTo ?? path.join(outDir, path.basename(entry).replace(/\.ts$/, '.bundle.mjs'));
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
if (bundleTo) process.exit(0);
const result = spawnSync(process.execPath, [outfile, ...args], { stdio: 'inherit' });
process.exit(result.status ?? 1);
