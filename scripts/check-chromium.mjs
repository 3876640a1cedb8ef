#!/usr/bin/env node
// Fails fast when there is no Chromium for the Playwright e2e tests (Playwright's own browser
// download is not used: the tests run a system Chromium with WebGPU on SwiftShader).
import { accessSync, constants } from 'node:fs';

const candidates = process.env.CHROMIUM_PATH ? [process.env.CHROMIUM_PATH] : ['/usr/bin/chromium'];
const found = candidates.find((path) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
});

if (!found) {
  const where = process.env.CHROMIUM_PATH ? `CHROMIUM_PATH=${process.env.CHROMIUM_PATH}` : '/usr/bin/chromium';
  console.error(
    [
      `check-chromium: no executable Chromium at ${where}; the e2e tests need one.`,
      'Get one with:',
      '  sudo apt-get install -y chromium          (Debian/Ubuntu)',
      'or point the tests at an existing Chromium/Chrome:',
      '  CHROMIUM_PATH=/path/to/chromium npm test',
    ].join('\n'),
  );
  process.exit(1);
}
