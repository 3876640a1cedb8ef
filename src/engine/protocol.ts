/**
 * Messages between the main thread (engine/client.ts) and the engine worker (engine.worker.ts).
 *
 * Contract:
 * - Both directions are unions tagged by `type`; every message carries the protocol version `v`.
 * - A command may carry an `id`; events that answer it echo that `id` so callers can correlate.
 * - Everything here must survive `structuredClone` (plain data only: no functions, classes, tensors).
 * - This module imports nothing from tfjs, so the UI/store side can import it.
 *
 * To add a command: add its interface to `EngineCommand`, then a field checker to `commandCheckers`
 * (TypeScript refuses to compile until every command type has one).
 */

export const PROTOCOL_VERSION = 1;

/** Backends the lab can run on, in the order `auto` tries them. */
export const BACKEND_NAMES = ['webgpu', 'webgl', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** What the user may ask for: a backend, or `auto` (best available). */
export const BACKEND_PREFERENCES = ['auto', ...BACKEND_NAMES] as const;
export type BackendPreference = (typeof BACKEND_PREFERENCES)[number];

export function isBackendPreference(value: unknown): value is BackendPreference {
  return typeof value === 'string' && (BACKEND_PREFERENCES as readonly string[]).includes(value);
}

/** A backend that was tried and not used, and why (human-readable, shown in the UI). */
export interface BackendRefusal {
  name: BackendName;
  reason: string;
}

/** Plain copy of GPUAdapterInfo (the real object is not structured-cloneable). */
export interface GpuAdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

/** Result of the tiny computation run on the chosen backend to prove it really computes. */
export interface BackendSmoke {
  ok: boolean;
  /** matMul([[1,2],[3,4]], [[5,6],[7,8]]) flattened; expected [19, 22, 43, 50]. */
  matMul: number[];
  /** Number of tensors summed by the AddN check (exercises the storage-buffer limit on WebGPU). */
  addNCount: number;
  /** Every element of the AddN result; each must equal addNCount. */
  addNValue: number;
  /** Wall time of the smoke in ms (includes shader compilation on first use). */
  ms: number;
  /** Why `ok` is false, if it is. */
  detail?: string;
}

// ---------------------------------------------------------------------------------------------
// Commands: main thread -> worker

interface CommandBase {
  v: number;
  id?: string;
}

/** First message: pick a backend. Answered by `ready` (or `error`). */
export interface HelloCommand extends CommandBase {
  type: 'hello';
  backend: BackendPreference;
}

export type EngineCommand = HelloCommand;
export type CommandType = EngineCommand['type'];

/** A command as the client passes it to `send`: `v` is stamped by the client. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type OutgoingCommand = DistributiveOmit<EngineCommand, 'v'>;

// ---------------------------------------------------------------------------------------------
// Events: worker -> main thread

interface EventBase {
  v: number;
  /** The `id` of the command this answers, if it had one. */
  id?: string;
}

export interface ReadyEvent extends EventBase {
  type: 'ready';
  backend: BackendName;
  refused: BackendRefusal[];
  adapterInfo?: GpuAdapterSummary;
  /** The limits the WebGPU device was created with (only for webgpu). */
  limits?: Record<string, number>;
  smoke: BackendSmoke;
}

export type ErrorCode =
  | 'bad-message' // not an object / no string `type`
  | 'unknown-type'
  | 'version-mismatch'
  | 'bad-field'
  | 'gpu-uncaptured-error' // GPUDevice 'uncapturederror': results may be garbage
  | 'gpu-device-lost'
  | 'backend-failed'
  | 'worker-crashed'
  | 'internal';

export interface EngineErrorEvent extends EventBase {
  type: 'error';
  code: ErrorCode;
  message: string;
  /** false: the engine cannot continue (reload / pick another backend). */
  recoverable: boolean;
}

export type EngineEvent = ReadyEvent | EngineErrorEvent;
export type EventType = EngineEvent['type'];

// ---------------------------------------------------------------------------------------------
// Validation (worker side: every incoming message goes through this)

export type CommandValidation =
  | { ok: true; command: EngineCommand }
  | { ok: false; error: EngineErrorEvent };

type Fields = Record<string, unknown>;
/** Returns null when the command-specific fields are valid, else what is wrong. */
type FieldChecker = (msg: Fields) => string | null;

const commandCheckers: { [K in CommandType]: FieldChecker } = {
  hello: (msg) =>
    isBackendPreference(msg.backend)
      ? null
      : `hello.backend must be one of ${BACKEND_PREFERENCES.join(', ')} (got ${describe(msg.backend)})`,
};

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return typeof value;
}

export function makeError(code: ErrorCode, message: string, recoverable: boolean, id?: string): EngineErrorEvent {
  const event: EngineErrorEvent = { type: 'error', v: PROTOCOL_VERSION, code, message, recoverable };
  if (id !== undefined) event.id = id;
  return event;
}

/**
 * Checks an incoming message (`MessageEvent.data`, so `unknown`) and returns it as a typed command,
 * or an `error` event to post back. Checks in order: shape, `id`, `type` known, `v` matches, fields.
 */
export function validateCommand(raw: unknown): CommandValidation {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, error: makeError('bad-message', `command must be an object (got ${describe(raw)})`, true) };
  }
  const msg = raw as Fields;
  let id: string | undefined;
  if (msg.id !== undefined) {
    if (typeof msg.id !== 'string') {
      return { ok: false, error: makeError('bad-field', `command id must be a string (got ${describe(msg.id)})`, true) };
    }
    id = msg.id;
  }
  if (typeof msg.type !== 'string') {
    return { ok: false, error: makeError('bad-message', `command has no string "type" (got ${describe(msg.type)})`, true, id) };
  }
  if (!Object.hasOwn(commandCheckers, msg.type)) {
    return { ok: false, error: makeError('unknown-type', `unknown command type ${JSON.stringify(msg.type)}`, true, id) };
  }
  if (msg.v !== PROTOCOL_VERSION) {
    return {
      ok: false,
      error: makeError(
        'version-mismatch',
        `protocol version mismatch: worker speaks v${PROTOCOL_VERSION}, command ${JSON.stringify(msg.type)} has v=${describe(msg.v)}`,
        false,
        id,
      ),
    };
  }
  const problem = commandCheckers[msg.type as CommandType](msg);
  if (problem !== null) {
    return { ok: false, error: makeError('bad-field', problem, true, id) };
  }
  return { ok: true, command: msg as unknown as EngineCommand };
}
