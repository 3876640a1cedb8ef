#!/usr/bin/env node
// Runs the benchmark in Chromium: builds the app into .bench-dist/, serves it with `vite preview`
// on 127.0.0.1, opens `/?bench&...` (the query string is argv[2]) and prints every `BENCH_LINE`
// the page logs as one JSON line on stdout. Exits 1 when the page reports an error.
// Called by `npm run bench -- --browser ...` (and for --backend webgl); see scripts/bench.ts.
// BENCH_TIMEOUT_S (default 3600) bounds the whole page run: a page that never reports ends with exit 1.
import { chromium } from '@playwright/test';
import { build, preview } from 'vite';

const search = process.argv[2] ?? '?bench';
if (!search.startsWith('?bench')) {
  console.error('usage: node scripts/bench-browser.mjs "?bench&backend=...&net=..."');
  process.exit(2);
}
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const outDir = '.bench-dist';

await build({ logLevel: 'warn', build: { outDir, emptyOutDir: true } });
const server = await preview({ logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port: 0, strictPort: false } });
const address = server.httpServer.address();
const origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 4173}`;
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--enable-unsafe-webgpu'],
});
let failed = false;
try {
  const page = await browser.newPage();
  const finished = new Promise((resolve) => {
    page.on('console', (msg) => {
      const text = msg.text();
      if (text.startsWith('BENCH_LINE ')) console.log(text.slice('BENCH_LINE '.length));
      else if (text.startsWith('BENCH_STARTED ')) console.error(`browser: ${text.slice('BENCH_STARTED '.length)}`);
      else if (text.startsWith('BENCH_DONE')) resolve(undefined);
      else if (text.startsWith('BENCH_ERROR ')) {
        console.error(`bench page: ${text.slice('BENCH_ERROR '.length)}`);
        failed = true;
        resolve(undefined);
      }
    });
    page.on('pageerror', (error) => {
      console.error(`page error: ${error.message}`);
      failed = true;
      resolve(undefined);
    });
  });
  const timeoutS = Number(process.env.BENCH_TIMEOUT_S ?? 3600);
  let timer;
  const deadline = new Promise((resolve) => {
    timer = setTimeout(() => {
      console.error(`bench page: no result after ${timeoutS} s (BENCH_TIMEOUT_S); giving up`);
      failed = true;
      resolve(undefined);
    }, timeoutS * 1000);
  });
  console.error(`opening ${origin}/${search}`);
  await page.goto(`${origin}/${search}`);
  await Promise.race([finished, deadline]);
  clearTimeout(timer);
} finally {
  await browser.close();
  await new Promise((resolve) => server.httpServer.close(resolve));
}
process.exit(failed ? 1 : 0);
