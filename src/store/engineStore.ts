/**
 * Engine connection state, as a view of the lab store (labStore.ts holds the one store; the engine
 * slice there says which backend the worker got, why others were refused, and the errors).
 */
export { useLabStore as useEngineStore, type EngineStatus } from './labStore';

export type {
  BackendName,
  BackendPreference,
  BackendRefusal,
  BackendSmoke,
  EngineErrorEvent,
  GpuAdapterSummary,
  ReadyEvent,
} from '../engine/protocol';
