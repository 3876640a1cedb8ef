/**
 * The lab's one Zustand store, composed of four slices, each in its own file:
 * - engine (engineSlice.ts): the worker connection (which backend it got, why others were refused)
 * - setup  (setupSlice.ts):  what the next run will do (mirrored in the URL, see urlConfig.ts)
 * - run    (runSlice.ts):    starting and steering runs
 * - lab    (labSlice.ts):    run state, stages, curves, results, errors (LabData, changed only by `reduceEvent`)
 * Only the slices send commands, through the one EngineConnection (ui → store → engine/client).
 */
import { create } from 'zustand';
import { METHOD_KNOBS, type MethodName } from '../core/names';
import { EngineConnection } from './connection';
import { createEngineSlice } from './engineSlice';
import { createLabSlice } from './labSlice';
import { createRunSlice } from './runSlice';
import { createSetupSlice } from './setupSlice';
import type { LabState } from './state';

export type { LabState } from './state';
export type { EngineSlice, EngineStatus } from './engineSlice';
export type { DataSource, SetupSlice } from './setupSlice';
export type { RunSlice } from './runSlice';
export type { LabSlice } from './labSlice';
export { runConfigOf } from './setupSlice';
export { canResumeInterrupted } from './runSlice';

/** Builds a store with its own connection (the page has one: `useLabStore`; tests build their own). */
export function createLabStore(connection = new EngineConnection()) {
  return create<LabState>()((set, get) => {
    const ctx = { set, get, connection };
    return { ...createEngineSlice(ctx), ...createSetupSlice(ctx), ...createRunSlice(ctx), ...createLabSlice(ctx) };
  });
}

export const useLabStore = createLabStore();

/** Methods in the setup that have a knob (their sweeps are drawn as fronts). */
export function knobName(m: MethodName): string | null {
  return METHOD_KNOBS[m]?.knob ?? null;
}
