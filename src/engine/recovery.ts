/**
 * Backend recovery: which backends to try after the current one broke (device lost, uncaptured
 * GPU error). It follows the backend policy's own order (`backendOrder('auto')`: webgpu → webgl →
 * wasm → cpu, a software GPU only after wasm) minus the broken backend and every one before it,
 * so a software WebGL never beats wasm just because WebGPU was lost.
 */
import { backendOrder } from './backend';
import type { BackendName, BackendPreference } from './protocol';

export interface RecoveryChoice {
  preference: BackendPreference;
  /** backends not to try (never includes cpu) */
  exclude: BackendName[];
}

/** What to select after `lost` broke (`null`: nothing was selected yet, so the default policy). */
export function recoveryChoice(lost: BackendName | null): RecoveryChoice {
  if (lost === 'cpu') return { preference: 'cpu', exclude: [] };
  const order = backendOrder('auto');
  const at = lost === null ? -1 : order.indexOf(lost);
  const exclude = order.slice(0, at + 1).filter((b) => b !== 'cpu');
  return { preference: 'auto', exclude };
}
