/**
 * Weight initialisation schemes (a named lab setting: `ExperimentOptions.init`, `npm run repro --
 * --init`, docs/METHOD.md). Measured to matter: with the same data, stages and seed, fine-tuning
 * keeps ~12 points more of MNIST from a He-initialised trunk than from PyTorch's default
 * (docs/CROSSCHECK.md, "The fine-tuning gap").
 *
 *   'he' (the lab's default): trunk kernels W ~ N(0, 2/fan_in) (a plain normal, not tfjs's truncated
 *       one), biases 0; heads Glorot-uniform W ~ U(±√(6/(fan_in + fan_out))), bias 0.
 *   'torch-default': what `nn.Linear` / `nn.Conv2d` do when left alone (kaiming_uniform with a = √5):
 *       every kernel and bias, heads included, ~ U(±1/√fan_in), i.e. std 1/√(3·fan_in), 2.45× smaller
 *       than He's.
 * BN γ = 1, β = 0 in both. fan_in = k·k·C_in for a conv kernel [k, k, C_in, C_out], C_in for a
 * dense kernel [C_in, C_out]. Deterministic for a given seed; 'he' draws exactly what the lab drew
 * before this setting existed.
 */
import * as tf from '@tensorflow/tfjs';

export type InitScheme = 'he' | 'torch-default';

export const INIT_SCHEMES: readonly InitScheme[] = ['he', 'torch-default'];

/** Offset between a tensor's kernel seed and its bias seed (torch-default draws both). */
const BIAS_SEED_OFFSET = 500;

/** A trunk kernel of `shape` (conv [k, k, C_in, C_out] or dense [C_in, C_out]) with fan-in `fanIn`. */
export function trunkKernel(scheme: InitScheme, shape: number[], fanIn: number, seed: number): tf.Tensor {
  if (scheme === 'he') return tf.randomNormal(shape, 0, Math.sqrt(2 / fanIn), 'float32', seed);
  const bound = 1 / Math.sqrt(fanIn);
  return tf.randomUniform(shape, -bound, bound, 'float32', seed);
}

/** A bias [n] of a unit or head whose kernel has fan-in `fanIn` and seed `kernelSeed`: 0 for 'he'. */
export function bias(scheme: InitScheme, n: number, fanIn: number, kernelSeed: number): tf.Tensor {
  if (scheme === 'he') return tf.zeros([n]);
  const bound = 1 / Math.sqrt(fanIn);
  return tf.randomUniform([n], -bound, bound, 'float32', kernelSeed + BIAS_SEED_OFFSET);
}

/** A head kernel [F, K]: Glorot-uniform for 'he', U(±1/√F) for 'torch-default'. */
export function headKernel(scheme: InitScheme, featureSize: number, numClasses: number, seed: number): tf.Tensor {
  const bound = scheme === 'he' ? Math.sqrt(6 / (featureSize + numClasses)) : 1 / Math.sqrt(featureSize);
  return tf.randomUniform([featureSize, numClasses], -bound, bound, 'float32', seed);
}

/** Parses a user-given scheme name; throws a message naming the choices. */
export function parseInitScheme(value: unknown): InitScheme {
  if (typeof value === 'string' && (INIT_SCHEMES as readonly string[]).includes(value)) return value as InitScheme;
  throw new Error(`init must be one of ${INIT_SCHEMES.join(', ')}, got ${JSON.stringify(value)}`);
}
