/**
 * A RunConfig (names and numbers from the page) → the core's `ExperimentOptions`: the one place
 * the engine maps a run's settings onto the Experiment it builds.
 */
import type { ExperimentOptions } from '../core/experiment';
import { comparisonOf, type ComparisonSettings } from '../core/names';
import type { RunConfig } from './protocol';

/**
 * The Experiment's options for `c`: network, seed, head warm-up, α learning rate, the stage
 * options (live: a progress report at most every `reportIntervalMs`, a yield after every step),
 * and the comparison settings (budget, jointInit, init, fisher, baselineBatchNorm, combineDecay).
 */
export function experimentOptionsOf(c: RunConfig, reportIntervalMs: number): Partial<ExperimentOptions> {
  // typed as ExperimentOptions' own fields: a name list in core/names.ts that drifts from its
  // ExperimentOptions type fails the typecheck here
  const comparison: Pick<ExperimentOptions, keyof ComparisonSettings> = comparisonOf(c);
  return {
    net: c.net, seed: c.seed, headWarmupSteps: c.headWarmupSteps, alphaLearningRate: c.alphaLearningRate,
    stage: { epochs: c.epochs, batchSize: c.batchSize, learningRate: c.learningRate, weightDecay: c.weightDecay, seed: c.seed, reportIntervalMs, yieldEveryStep: true, maxSteps: c.maxStepsPerStage },
    ...comparison,
  };
}
