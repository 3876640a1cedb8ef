import { describe, expect, it } from 'vitest';
import { metricSuite } from '../src/core/metricSuite';
import { aggregateCriteria, aggregatePoints } from '../src/core/seeds';
import { criteriaRows, jointBoundNote, markdownReport, metricRows, resultsRows, tradeoffSvg, type ReproResults } from './report';

const results: ReproResults = {
  scenario: 'mnist-fashion', net: 'mlp', seed: 1, backend: 'cpu', settings: { epochs: 3 },
  tasks: [{ id: 'mnist', name: 'MNIST', numClasses: 10 }, { id: 'fashion', name: 'Fashion-MNIST', numClasses: 10 }],
  sourceAccuracy: 0.94,
  runs: [
    { method: 'rescl', knob: 0, accByTask: { mnist: 0.93, fashion: 0.82 }, accMatrix: [[0.94], [0.93, 0.82]], paramCount: 10, foldMaxAbsDiff: 2e-6, source: 0.93, target: 0.82, seconds: 1 },
    { method: 'ft', knob: null, accByTask: { mnist: 0.83, fashion: 0.83 }, accMatrix: [[0.94], [0.83, 0.83]], paramCount: 10, source: 0.83, target: 0.83, seconds: 1 },
  ],
  criteria: { rescl: { maxAvgAcc: 0.875, tau: 0.82, srcAccAtTau: 0.93 }, ft: { maxAvgAcc: 0.83, tau: 0.82, srcAccAtTau: null } },
  tauRule: 'ft − 1 point',
};

describe('repro report', () => {
  it('tabulates accuracies in % and says when τ is not reachable', () => {
    expect(resultsRows(results).rows[0]).toEqual(['ResCL', '0', '1', '93.0', '82.0', '87.5', '10', '2.0e-6']);
    expect(criteriaRows(results).rows[1]).toEqual(['Fine-tuning', '83.0', '82.0', 'not reachable']);
    expect(markdownReport(results, 'tradeoff.svg')).toContain('| ResCL | 0 | 1 | 93.0 | 82.0 | 87.5 | 10 | 2.0e-6 |');
  });

  it('draws every run as a point in an SVG', () => {
    const svg = tradeoffSvg(results);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<circle[^>]*><title>/g)?.length).toBe(2);
  });

  it('with several seeds: mean ± sd rows, criteria over seeds, the metric suite, and error bars', () => {
    const second = results.runs.map((run) => ({ ...run, seed: 2, source: run.source - 0.02, target: run.target + 0.01 }));
    const runs = [...results.runs.map((run) => ({ ...run, seed: 1 })), ...second]
      .map((run) => ({ ...run, metrics: metricSuite(run.accMatrix) }));
    const perSeed = [1, 2].map((seed) => runs.filter((r) => r.seed === seed));
    const multi: ReproResults = { ...results, runs, seeds: [1, 2], aggregate: { points: aggregatePoints(perSeed), criteria: aggregateCriteria(perSeed) } };
    const md = markdownReport(multi, 'tradeoff.svg');
    expect(md).toContain('Mean ± sd over seeds');
    expect(md).toContain('| ResCL | 0 | 2 | 92.0 ± 1.4 | 82.5 ± 0.7 | 87.3 ± 0.4 |');
    expect(criteriaRows(multi).header).toContain('seeds where τ not reached');
    // FWT is undefined without single-task references: "—" with the reason
    const met = metricRows(multi);
    expect(met.rows[0][6]).toBe('—');
    expect(met.notes.join('\n')).toMatch(/single-task/);
    const svg = tradeoffSvg(multi);
    expect(svg.match(/class="error-bar"/g)?.length).toBe(2);
    expect(svg.match(/<circle[^>]*><title>/g)?.length).toBe(2);
  });

  it('says when joint training does not bound the continual methods', () => {
    const joint = { method: 'joint' as const, knob: null, accByTask: { mnist: 0.9, fashion: 0.8 }, accMatrix: [[], [0.9, 0.8]], paramCount: 10, source: 0.9, target: 0.8, seconds: 1 };
    expect(jointBoundNote({ ...results, runs: [...results.runs, joint] })).toMatch(/below ResCL 0 \(87.5%\).*not an oracle/);
    expect(jointBoundNote({ ...results, runs: [...results.runs, { ...joint, source: 0.95, target: 0.9 }] })).toBeNull();
    expect(jointBoundNote(results)).toBeNull();
  });
});
