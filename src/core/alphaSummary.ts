/**
 * Per-step α summaries of ResCL's combine stage (the lab's α trajectories): for every combined unit
 * l, mean_c |α_s^l[c]| and mean_c |α_t^l[c]| over its output channels c, read back in one transfer.
 */
import * as tf from '@tensorflow/tfjs';
import type { CombinedNet } from './combine';

/** Mean |α| of one unit's source and target branch at one step. */
export interface AlphaSummary {
  unit: string;
  step: number;
  meanAbsSource: number;
  meanAbsTarget: number;
}

/** Mean |α_s|, |α_t| per unit of `c` (units in the order of `c.alphaSource`), tagged with `step`. */
export async function summarizeAlphas(c: CombinedNet, step: number): Promise<AlphaSummary[]> {
  const units = [...c.alphaSource.keys()].filter((u) => c.alphaTarget.has(u));
  if (!units.length) return [];
  const packed = tf.tidy(() => tf.stack(units.flatMap((u) => [
    tf.mean(tf.abs(c.alphaSource.get(u) as tf.Variable)), tf.mean(tf.abs(c.alphaTarget.get(u) as tf.Variable)),
  ])));
  const values = await packed.data();
  packed.dispose();
  return units.map((unit, i) => ({ unit, step, meanAbsSource: values[2 * i], meanAbsTarget: values[2 * i + 1] }));
}
