/// <reference types="vitest/config" />
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * In Node, tfjs packages resolve to their ES5 `main` builds, which we measured 3-4x slower than the
 * ESM `dist/index.js`. Vitest therefore aliases every tfjs package to its ESM entry and inlines it.
 */
const tfjsPackages = [
  'tfjs', 'tfjs-core', 'tfjs-layers', 'tfjs-converter', 'tfjs-data',
  'tfjs-backend-cpu', 'tfjs-backend-webgl', 'tfjs-backend-webgpu', 'tfjs-backend-wasm',
];
const tfjsEsmAliases = tfjsPackages.map((name) => ({
  find: new RegExp(`^@tensorflow/${name}$`),
  replacement: fileURLToPath(new URL(`./node_modules/@tensorflow/${name}/dist/index.js`, import.meta.url)),
}));

export default defineConfig({
  plugins: [react()],
  worker: { format: 'es' },
  // tfjs is imported only by the engine worker, which the dev server discovers late; pre-bundling it
  // up front avoids a "dependencies changed, reloading" full page reload on the first visit.
  optimizeDeps: { include: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-backend-wasm'] },
  // No COOP/COEP headers on purpose: cross-origin isolation makes tfjs-wasm load its threaded
  // binary, whose pthread workers are built from the factory's toString() and fail in a minified
  // build ("e is not defined", the engine worker dies); and tfjs gives a 2-core machine 1 thread.
  server: { host: '127.0.0.1' },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
    setupFiles: ['src/testing/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    alias: tfjsEsmAliases,
    server: { deps: { inline: [/@tensorflow\//] } },
  },
});
