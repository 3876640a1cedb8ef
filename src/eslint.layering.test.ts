/**
 * The import direction is a lint error, not a convention: each rule in eslint.config.js is shown to
 * fail on a deliberately wrong import and to pass the allowed one (ESLint's Node API, fixture text).
 */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: process.cwd() });

async function restricted(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages.filter((m) => /no-restricted-imports/.test(m.ruleId ?? '')).map((m) => m.message);
}

describe('layering lint rules', () => {
  it('ui: only the store, and type-only imports of engine/protocol', async () => {
    const file = 'src/ui/Fixture.tsx';
    expect(await restricted(file, "import { useLabStore } from '../store/labStore';\nexport const x = useLabStore;\n")).toEqual([]);
    expect(await restricted(file, "import type { RunState } from '../engine/protocol';\nexport type X = RunState;\n")).toEqual([]);
    expect(await restricted(file, "import { PROTOCOL_VERSION } from '../engine/protocol';\nexport const x = PROTOCOL_VERSION;\n")).toHaveLength(1);
    expect(await restricted(file, "import { Engine } from '../engine/engine';\nexport const x = Engine;\n")).toHaveLength(1);
    expect(await restricted(file, "import { METHOD_NAMES } from '../core/names';\nexport const x = METHOD_NAMES;\n")).toHaveLength(1);
    expect(await restricted(file, "import * as tf from '@tensorflow/tfjs';\nexport const x = tf;\n")).toHaveLength(1);
  });

  it('store: no tfjs', async () => {
    expect(await restricted('src/store/fixture.ts', "import * as tf from '@tensorflow/tfjs';\nexport const x = tf;\n")).toHaveLength(1);
  });

  it('core: neither kernels nor engine (data is fine)', async () => {
    const file = 'src/core/fixture.ts';
    expect(await restricted(file, "import { createRng } from '../data/rng';\nexport const x = createRng;\n")).toEqual([]);
    expect(await restricted(file, "import { registerFastKernels } from '../kernels';\nexport const x = registerFastKernels;\n")).toHaveLength(1);
    expect(await restricted(file, "import { Engine } from '../engine/engine';\nexport const x = Engine;\n")).toHaveLength(1);
  });

  it('data: nothing above it', async () => {
    const file = 'src/data/fixture.ts';
    expect(await restricted(file, "import { IMAGE_PIXELS } from './types';\nexport const x = IMAGE_PIXELS;\n")).toEqual([]);
    expect(await restricted(file, "import { Experiment } from '../core/experiment';\nexport const x = Experiment;\n")).toHaveLength(1);
    expect(await restricted(file, "import { Engine } from '../engine/engine';\nexport const x = Engine;\n")).toHaveLength(1);
  });
});
