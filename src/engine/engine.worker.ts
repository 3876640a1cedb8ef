/**
 * The engine worker: a thin adapter. It picks the tfjs backend, switches on `msg.type` and posts
 * events. Logic belongs in modules that can be tested in Node (backend.ts, later engine.ts).
 * One long-lived dedicated worker, one message listener.
 */
/// <reference lib="webworker" />
import { selectBackend, type BackendSelection } from './backend';
import {
  PROTOCOL_VERSION,
  makeError,
  validateCommand,
  type EngineEvent,
  type HelloCommand,
  type ReadyEvent,
} from './protocol';

declare const self: DedicatedWorkerGlobalScope;

function post(event: EngineEvent): void {
  self.postMessage(event);
}

/** Selected once per worker; a second `hello` gets the same answer. */
let selection: Promise<BackendSelection> | null = null;

async function handleHello(cmd: HelloCommand): Promise<void> {
  selection ??= selectBackend(cmd.backend, {
    onFatalGpuError: (message) => {
      const code = /device lost/i.test(message) ? 'gpu-device-lost' : 'gpu-uncaptured-error';
      post(makeError(code, message, false));
    },
  });
  try {
    const s = await selection;
    const ready: ReadyEvent = { type: 'ready', v: PROTOCOL_VERSION, backend: s.backend, refused: s.refused, smoke: s.smoke };
    if (cmd.id !== undefined) ready.id = cmd.id;
    if (s.adapterInfo) ready.adapterInfo = s.adapterInfo;
    if (s.limits) ready.limits = s.limits;
    post(ready);
  } catch (err) {
    post(makeError('backend-failed', err instanceof Error ? err.message : String(err), false, cmd.id));
  }
}

self.addEventListener('message', (msg: MessageEvent<unknown>) => {
  const result = validateCommand(msg.data);
  if (!result.ok) {
    post(result.error);
    return;
  }
  const cmd = result.command;
  switch (cmd.type) {
    case 'hello':
      void handleHello(cmd);
      return;
  }
});

self.addEventListener('unhandledrejection', (event: PromiseRejectionEvent) => {
  const reason: unknown = event.reason;
  post(makeError('internal', `unhandled rejection in engine worker: ${reason instanceof Error ? reason.message : String(reason)}`, false));
});
