/**
 * Run planning: the (method, knob) items a run covers, in order, and the warm start of a ResCL
 * sweep point (α and θ_t of the finished point nearest in log λ).
 */
import type { CombinedState } from '../core/experiment';
import { METHOD_KNOBS, type MethodName } from '../core/names';
import type { PointRecord, RunRecord } from './sessions';

export interface PlanItem {
  method: MethodName;
  knob: number | null;
  /** the live ResCL stage: λ follows the slider while it trains */
  live: boolean;
}

/**
 * rescl: one live ResCL network at the run's λ (not live for `single`, a `trainLambda`);
 * sweep: ResCL at every sweep λ; baseline: one method at its knob; full: the live ResCL network,
 * the ResCL sweep (if ResCL is among the methods) and every other method at each of its knobs.
 */
export function runPlan(run: Pick<RunRecord, 'config' | 'mode' | 'method' | 'knob'>, single: boolean): PlanItem[] {
  const c = run.config;
  const sweep = (m: MethodName): (number | null)[] => {
    const values = c.sweep[m];
    if (values && values.length) return values;
    return METHOD_KNOBS[m] ? [METHOD_KNOBS[m]?.defaults[0] ?? null] : [null];
  };
  switch (run.mode) {
    case 'rescl':
      return [{ method: 'rescl', knob: run.knob ?? c.lambda, live: !single }];
    case 'sweep':
      return (c.sweep.rescl ?? []).map((k) => ({ method: 'rescl' as const, knob: k, live: false }));
    case 'baseline': {
      const method = run.method ?? 'ft';
      return [{ method, knob: run.knob ?? (METHOD_KNOBS[method] ? sweep(method)[0] : null), live: false }];
    }
    case 'full': {
      const items: PlanItem[] = [{ method: 'rescl', knob: c.lambda, live: true }];
      if (c.methods.includes('rescl')) for (const k of c.sweep.rescl ?? []) items.push({ method: 'rescl', knob: k, live: false });
      for (const m of c.methods) if (m !== 'rescl') for (const k of sweep(m)) items.push({ method: m, knob: k, live: false });
      return items;
    }
  }
}

/** α and θ_t of the finished ResCL point nearest to `lambda` in log λ (λ ≤ 1e-8 counts as 1e-8). */
export function nearestState(points: Iterable<PointRecord>, lambda: number): CombinedState | undefined {
  const log = (x: number) => Math.log10(Math.max(x, 1e-8));
  let best: PointRecord | undefined;
  for (const p of points) {
    if (p.event.method !== 'rescl' || !p.state) continue;
    if (!best || Math.abs(log(p.event.knob ?? 0) - log(lambda)) < Math.abs(log(best.event.knob ?? 0) - log(lambda))) best = p;
  }
  return best?.state;
}
