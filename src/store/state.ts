/**
 * The shape of the lab's store: the four slices together, and what each slice's builder gets.
 * Each slice lives in its own file (engineSlice, setupSlice, runSlice, labSlice); labStore.ts
 * composes them.
 */
import type { StoreApi } from 'zustand';
import type { EngineConnection } from './connection';
import type { EngineSlice } from './engineSlice';
import type { LabSlice } from './labSlice';
import type { RunSlice } from './runSlice';
import type { SetupSlice } from './setupSlice';

export type LabState = EngineSlice & SetupSlice & RunSlice & LabSlice;

/** What a slice builder gets: the store's set/get and the engine connection. */
export interface SliceContext {
  set: StoreApi<LabState>['setState'];
  get: () => LabState;
  connection: EngineConnection;
}

/** Whether a run is in progress (running or paused). */
export function isBusy(s: Pick<LabState, 'runState'>): boolean {
  return s.runState === 'running' || s.runState === 'paused';
}
