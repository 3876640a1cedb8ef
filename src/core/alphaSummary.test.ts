import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { summarizeAlphas } from './alphaSummary';
import { buildCombined, disposeCombinedAlphas } from './combine';
import { sourceAndTarget } from '../testing/nets';
import { disposeNet } from './nets';

describe('α summaries', () => {
  it('give mean |α_s|, |α_t| per unit, equal to a direct computation, without leaking', async () => {
    const { source, target } = sourceAndTarget('mlp', 0.02, { a: 3, b: 2 });
    const c = buildCombined(source, target);
    const [unit] = [...c.alphaSource.keys()];
    const n = (c.alphaSource.get(unit) as tf.Variable).shape[0];
    const values = Array.from({ length: n }, (_, i) => (i % 2 ? -1 : 1) * (i + 1) / n);
    tf.tidy(() => c.alphaSource.get(unit)?.assign(tf.tensor1d(values)));
    const before = tf.memory().numTensors;
    const s = await summarizeAlphas(c, 7);
    expect(tf.memory().numTensors).toBe(before);
    expect(s.map((x) => x.unit)).toEqual([...c.alphaSource.keys()]);
    expect(s[0].step).toBe(7);
    expect(s[0].meanAbsSource).toBeCloseTo(values.reduce((a, v) => a + Math.abs(v), 0) / n, 5);
    expect(s[0].meanAbsTarget).toBeCloseTo(0.5, 5); // α_t starts at +0.5 (docs/METHOD.md, "Training")
    disposeCombinedAlphas(c);
    disposeNet(source);
    disposeNet(target);
  });
});
