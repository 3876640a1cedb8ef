import { describe, expect, it } from 'vitest';
import { DEFAULT_EXPERIMENT_OPTIONS, Experiment } from '../core/experiment';
import { COMPARISON_SETTING_NAMES, DEFAULT_COMPARISON } from '../core/names';
import { syntheticTask } from '../testing/synthetic';
import { experimentOptionsOf } from './experimentOptions';
import { DEFAULT_RUN_CONFIG } from './protocol';

describe('experimentOptionsOf', () => {
  it('gives the Experiment the run\'s comparison settings', () => {
    const options = experimentOptionsOf({
      ...DEFAULT_RUN_CONFIG, budget: 'stage', jointInit: 'scratch', init: 'torch-default', fisher: 'empirical', baselineBatchNorm: 'frozen-source', combineDecay: 'all',
    }, 50);
    const exp = new Experiment([syntheticTask('a', 2, 1, false, 8, 8), syntheticTask('b', 2, 2, false, 8, 8)], options);
    expect(exp.options).toMatchObject({ budget: 'stage', jointInit: 'scratch', init: 'torch-default', fisher: 'empirical', baselineBatchNorm: 'frozen-source', combineDecay: 'all' });
    expect(exp.options.stage).toMatchObject({ epochs: DEFAULT_RUN_CONFIG.epochs, reportIntervalMs: 50, yieldEveryStep: true });
    exp.dispose();
  });

  it('a config without them (saved before they existed) runs at the Experiment\'s defaults, which are the lab\'s', () => {
    for (const k of COMPARISON_SETTING_NAMES) expect(DEFAULT_COMPARISON[k]).toBe(DEFAULT_EXPERIMENT_OPTIONS[k]);
    const options = experimentOptionsOf(DEFAULT_RUN_CONFIG, 0);
    for (const k of COMPARISON_SETTING_NAMES) expect(options[k]).toBe(DEFAULT_EXPERIMENT_OPTIONS[k]);
  });
});
