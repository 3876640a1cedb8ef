import { describe, expect, it } from 'vitest';
import { clampLambda } from '../core/lambda';
import { TRAINING_DEFAULTS } from '../core/trainingDefaults';
import { DEFAULT_SETUP, formatSetup, parseSetup } from './urlConfig';

describe('seeds in the URL', () => {
  it('keeps the usable seeds and says what it left out', () => {
    const { config, notices } = parseSetup('?seeds=3, 1,x,1,-2,2.5');
    expect(config.seeds).toEqual([3, 1]);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/^seeds=3, 1,x,1,-2,2.5: "x" is not a whole number in 0 … 2147483647; 1 is repeated; "-2" is not a whole number.*"2.5".*; using seeds 3, 1\.$/);
  });

  it('falls back to the one seed when none is usable, and caps the list at ten', () => {
    const none = parseSetup('?seed=4&seeds=a,b');
    expect(none.config.seeds).toEqual([]);
    expect(none.notices[0]).toMatch(/using seed 4 alone/);
    const many = parseSetup(`?seeds=${Array.from({ length: 12 }, (_, i) => i).join(',')}`);
    expect(many.config.seeds).toHaveLength(10);
    expect(many.notices[0]).toMatch(/10 is one seed too many \(at most 10\); 11 is one seed too many/);
  });

  it('round-trips, and leaves `seeds` out of the link for one run', () => {
    const withSeeds = { ...DEFAULT_SETUP, seeds: [1, 2] };
    expect(parseSetup(formatSetup(withSeeds)).config).toEqual(withSeeds);
    expect(formatSetup(DEFAULT_SETUP, '?seeds=1,2')).not.toContain('seeds');
  });
});

describe('parseSetup', () => {
  it('gives the defaults for an empty query', () => {
    expect(parseSetup('')).toEqual({ config: DEFAULT_SETUP, notices: [] });
    expect(parseSetup('?scenario=&net=')).toEqual({ config: DEFAULT_SETUP, notices: [] });
  });

  it('reads every parameter of a valid link', () => {
    const { config, notices } = parseSetup('?scenario=split-mnist&net=conv4&methods=rescl,lwf&epochs=3&batch=32&trainLimit=1000&seed=7&seeds=1,2&backend=cpu&lambda=0.0001'
      + '&budget=stage&jointInit=scratch&init=torch-default&fisher=empirical&baselineBn=frozen-source&combineDecay=all');
    expect(notices).toEqual([]);
    expect(config).toEqual({
      scenario: 'split-mnist', net: 'conv4', methods: ['rescl', 'lwf'], epochs: 3, batchSize: 32, trainLimit: 1000, seed: 7, seeds: [1, 2], backend: 'cpu', lambda: 1e-4,
      budget: 'stage', jointInit: 'scratch', init: 'torch-default', fisher: 'empirical', baselineBatchNorm: 'frozen-source', combineDecay: 'all',
    });
  });

  it('clamps out-of-range numbers with a notice', () => {
    const { config, notices } = parseSetup('?epochs=500&trainLimit=5&seed=-3&lambda=5');
    expect(config.epochs).toBe(20);
    expect(config.trainLimit).toBe(100);
    expect(config.seed).toBe(0);
    expect(config.lambda).toBe(0.1);
    expect(notices).toHaveLength(4);
    expect(notices[0]).toMatch(/epochs=500 is out of range.*using 20/);
  });

  it('rounds fractional whole-number fields and accepts trainLimit=all and lambda=0', () => {
    const { config, notices } = parseSetup('?epochs=2.6&trainLimit=all&lambda=0');
    expect(config.epochs).toBe(3);
    expect(config.trainLimit).toBeNull();
    expect(config.lambda).toBe(0);
    expect(notices).toHaveLength(1);
  });

  it('refuses unknown names and garbage without throwing', () => {
    const { config, notices } = parseSetup('?scenario=cifar&net=vgg&backend=metal&epochs=lots&lambda=abc&seed=NaN');
    expect(config).toEqual(DEFAULT_SETUP);
    expect(notices.join('\n')).toMatch(/Unknown scenario "cifar"/);
    expect(notices.join('\n')).toMatch(/Unknown network "vgg"/);
    expect(notices.join('\n')).toMatch(/Unknown backend "metal"/);
    expect(notices.join('\n')).toMatch(/epochs=lots is not a number/);
    expect(notices).toHaveLength(6);
  });

  it('reads batch: defaults to the live training default, clamps and refuses bad values with a notice', () => {
    expect(DEFAULT_SETUP.batchSize).toBe(TRAINING_DEFAULTS.live.batchSize);
    expect(parseSetup('?batch=128')).toEqual({ config: { ...DEFAULT_SETUP, batchSize: 128 }, notices: [] });
    expect(parseSetup('?batch=0')).toEqual({ config: { ...DEFAULT_SETUP, batchSize: 1 }, notices: ['batch=0 is out of range (1 … 1024, whole numbers); using 1.'] });
    expect(parseSetup('?batch=5000').config.batchSize).toBe(1024);
    expect(parseSetup('?batch=96.4').config.batchSize).toBe(96);
    expect(parseSetup('?batch=big')).toEqual({ config: DEFAULT_SETUP, notices: [`batch=big is not a number; using ${DEFAULT_SETUP.batchSize}.`] });
    expect(parseSetup('?batch=1e400').notices).toEqual([`batch=1e400 is not a number; using ${DEFAULT_SETUP.batchSize}.`]);
    expect(formatSetup({ ...DEFAULT_SETUP, batchSize: 256 })).toMatch(/[?&]batch=256(&|$)/);
  });

  it('refuses the custom scenario (files cannot travel in a link)', () => {
    expect(parseSetup('?scenario=custom').config.scenario).toBe(DEFAULT_SETUP.scenario);
  });

  it('keeps known methods in canonical order, drops unknown ones, always includes ResCL', () => {
    const { config, notices } = parseSetup('?methods=ewc,foo,lwf');
    expect(config.methods).toEqual(['rescl', 'lwf', 'ewc']);
    expect(notices).toHaveLength(2);
  });

  it('clamps a tiny positive λ up to 1e-6 and a negative one to 0', () => {
    expect(clampLambda(1e-9)).toBe(1e-6);
    expect(clampLambda(-1)).toBe(0);
    expect(clampLambda(Number.NaN)).toBe(0);
    expect(clampLambda(3e-3)).toBe(3e-3);
  });

  it('round-trips through formatSetup', () => {
    const cfg = { ...DEFAULT_SETUP, scenario: 'rotated-mnist' as const, methods: ['rescl' as const, 'ft' as const], trainLimit: null, lambda: 0 };
    expect(parseSetup(formatSetup(cfg))).toEqual({ config: cfg, notices: [] });
    expect(formatSetup(cfg, '?debug=1')).toMatch(/^\?debug=1&scenario=rotated-mnist/);
  });

  it('reads and writes every backend preference, wasm included', () => {
    for (const backend of ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'] as const) {
      expect(parseSetup(`?backend=${backend.toUpperCase()}`)).toEqual({ config: { ...DEFAULT_SETUP, backend }, notices: [] });
      expect(parseSetup(formatSetup({ ...DEFAULT_SETUP, backend })).config.backend).toBe(backend);
    }
    expect(parseSetup('?backend=webassembly').notices).toEqual(['Unknown backend "webassembly" in the URL; using auto. Valid values: auto, webgpu, webgl, wasm, cpu.']);
  });
});

describe('comparison settings in the URL (the repro flags the lab has a select for)', () => {
  it('reads a setting under its parameter, case-insensitively, leaving the others at their defaults', () => {
    expect(parseSetup('?baselineBn=Frozen-Source&combineDecay=ALL')).toEqual({
      config: { ...DEFAULT_SETUP, baselineBatchNorm: 'frozen-source', combineDecay: 'all' }, notices: [],
    });
  });

  it('keeps the default for an unknown value and says which values there are', () => {
    const { config, notices } = parseSetup('?baselineBn=frozen&combineDecay=bias&budget=2');
    expect(config).toEqual(DEFAULT_SETUP);
    expect(notices).toEqual([
      'Unknown budget "2" in the URL; using equal. Valid values: equal, stage.',
      'Unknown baselineBn "frozen" in the URL; using batch. Valid values: batch, frozen-source.',
      'Unknown combineDecay "bias" in the URL; using kernels. Valid values: kernels, all.',
    ]);
  });

  it('writes a setting into the link only where it is not the default, and round-trips', () => {
    expect(formatSetup(DEFAULT_SETUP, '?baselineBn=frozen-source&combineDecay=all')).not.toMatch(/baselineBn|combineDecay|budget|jointInit|init=|fisher/);
    const cfg = { ...DEFAULT_SETUP, baselineBatchNorm: 'frozen-source' as const, combineDecay: 'all' as const };
    const link = formatSetup(cfg);
    expect(link).toMatch(/[?&]baselineBn=frozen-source(&|$)/);
    expect(link).toMatch(/[?&]combineDecay=all(&|$)/);
    expect(parseSetup(link)).toEqual({ config: cfg, notices: [] });
  });
});
