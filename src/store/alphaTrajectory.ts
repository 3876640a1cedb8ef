/**
 * α trajectories of ResCL's combine stages: mean |α_s^l| and mean |α_t^l| per combined unit l
 * against the step, collected from the `alphas` of progress events (engine/protocol.ts), per
 * stage. Pure functions over plain data (tested in Node); the α card draws one small chart per unit.
 */
import { checkAlphaSummaries, type AlphaSummary } from '../engine/protocol';

/** One measured step of one unit: mean |α_s| (`source`) and mean |α_t| (`target`). */
export interface AlphaTrajectoryPoint {
  step: number;
  source: number;
  target: number;
}

/** The trajectories of one stage, by unit name (units in the order they first arrived). */
export type StageTrajectories = Record<string, AlphaTrajectoryPoint[]>;

/** Most points kept per unit and stage (older ones are thinned out, never the newest). */
export const MAX_TRAJECTORY_POINTS = 300;

/** Appends a point, keeping every other point of the older half once past `max`. */
export function appendThinned<P>(points: readonly P[], point: P, max: number, keep: (p: P) => boolean = () => false): P[] {
  const next = [...points, point];
  if (next.length <= max) return next;
  const half = Math.floor(next.length / 2);
  const older = next.slice(0, half).filter((p, i) => i % 2 === 0 || keep(p));
  return [...older, ...next.slice(half)];
}

/**
 * A stage's trajectories with `alphas` added (a step already there for a unit is replaced,
 * so a repeated report never draws a step twice), or the reason the list was refused.
 */
export function addAlphaSummaries(
  stage: StageTrajectories | undefined, alphas: unknown,
): { ok: true; trajectories: StageTrajectories } | { ok: false; problem: string } {
  const problem = checkAlphaSummaries(alphas);
  if (problem !== null) return { ok: false, problem };
  const out: StageTrajectories = { ...stage };
  for (const a of alphas as AlphaSummary[]) {
    const prev = (out[a.unit] ?? []).filter((p) => p.step !== a.step);
    out[a.unit] = appendThinned(prev, { step: a.step, source: a.meanAbsSource, target: a.meanAbsTarget }, MAX_TRAJECTORY_POINTS)
      .sort((x, y) => x.step - y.step);
  }
  return { ok: true, trajectories: out };
}

/**
 * Which stage's trajectories the α card shows: the running combine stage while one streams
 * (`liveKey`), else the last combine stage (highest task index) of the ResCL network at `knob`.
 */
export function trajectoryStageKey(all: Readonly<Record<string, StageTrajectories>>, liveKey: string | null, knob: number | null): string | null {
  if (liveKey !== null && all[liveKey]) return liveKey;
  if (knob === null) return null;
  const prefix = `rescl|${knob}|`;
  const keys = Object.keys(all).filter((k) => k.startsWith(prefix) && k.endsWith('|combine'));
  keys.sort((a, b) => Number(a.split('|')[2]) - Number(b.split('|')[2]));
  return keys.at(-1) ?? null;
}
