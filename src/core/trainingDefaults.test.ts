import { describe, expect, it } from 'vitest';
import { stepsFor } from './batches';
import { DEFAULT_EXPERIMENT_OPTIONS } from './experiment';
import { DEFAULT_STAGE_OPTIONS } from './train';
import { FIXED_TRAINING, TRAINING_DEFAULTS } from './trainingDefaults';

describe('training defaults (one object)', () => {
  it('the core experiment defaults are the study settings', () => {
    // train.ts's DEFAULT_STAGE_OPTIONS is its own literal (train.ts is owned elsewhere): this pins it to the object.
    expect(DEFAULT_STAGE_OPTIONS).toMatchObject({
      epochs: TRAINING_DEFAULTS.epochs, batchSize: TRAINING_DEFAULTS.batchSize, learningRate: TRAINING_DEFAULTS.learningRate,
      weightDecay: TRAINING_DEFAULTS.weightDecay, seed: TRAINING_DEFAULTS.seed,
    });
    expect(DEFAULT_EXPERIMENT_OPTIONS).toMatchObject({
      seed: TRAINING_DEFAULTS.seed, headWarmupSteps: TRAINING_DEFAULTS.headWarmupSteps,
      alphaLearningRate: TRAINING_DEFAULTS.alphaLearningRate, fisherSamples: TRAINING_DEFAULTS.fisherSamples,
    });
  });

  it('the fixed fields are the shared ones', () => {
    for (const [k, v] of Object.entries(FIXED_TRAINING)) expect(TRAINING_DEFAULTS[k as keyof typeof FIXED_TRAINING]).toBe(v);
  });

  it('the live batch keeps the steps per stage up on the live subset, as its comment says', () => {
    const { live } = TRAINING_DEFAULTS;
    expect(stepsFor(live.trainLimit, live.batchSize, live.epochs)).toBe(64);
    expect(stepsFor(live.trainLimit, TRAINING_DEFAULTS.batchSize, live.epochs)).toBe(32);
  });
});
