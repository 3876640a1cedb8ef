/**
 * A stand-in for a dedicated Worker in Node tests of engine/client.ts and the store: it records
 * what is posted and lets the test play the worker's side (messages, a crash). No browser needed.
 */
import type { EngineCommand, EngineEvent } from '../engine/protocol';

type Handler = (event: unknown) => void;

export class FakeWorker {
  readonly posted: EngineCommand[] = [];
  terminated = false;
  private readonly handlers = new Map<string, Set<Handler>>();

  addEventListener(type: string, handler: Handler): void {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type)!.add(handler);
  }

  removeEventListener(type: string, handler: Handler): void {
    this.handlers.get(type)?.delete(handler);
  }

  postMessage(message: EngineCommand): void {
    if (this.terminated) throw new Error('FakeWorker: postMessage after terminate');
    this.posted.push(message);
  }

  terminate(): void {
    this.terminated = true;
  }

  /** The worker posts an event (dropped after terminate, as a real worker's would be). */
  emit(event: EngineEvent): void {
    if (this.terminated) return;
    for (const h of this.handlers.get('message') ?? []) h({ data: event });
  }

  /** The worker script throws at top level (an `error` event on the Worker object). */
  crash(message: string): void {
    const event = { message, filename: 'engine.worker.ts', lineno: 1, preventDefault: () => undefined };
    for (const h of this.handlers.get('error') ?? []) h(event);
  }

  /** The last posted command of a type. */
  last(type: EngineCommand['type']): EngineCommand | undefined {
    return [...this.posted].reverse().find((c) => c.type === type);
  }

  /** The Worker type the client expects (this fake implements the part it uses). */
  asWorker(): Worker {
    return this as unknown as Worker;
  }
}
