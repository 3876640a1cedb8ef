/**
 * The store's one connection to the engine: the worker client, the command ids it stamps and the
 * requests waiting for an answer. Not state (never rendered, not serialisable), so it lives beside
 * the zustand state, owned by this one object instead of module-level variables.
 */
import { createEngineClient, type EngineClient, type EngineClientOptions } from '../engine/client';
import type { EngineEvent, OutgoingCommand } from '../engine/protocol';

type Waiter = { match: (e: EngineEvent) => boolean; resolve: (e: EngineEvent) => void };

export interface EngineConnectionOptions {
  /** For tests: build a different client (default: the bundled engine worker). */
  createClient?: (options?: EngineClientOptions) => EngineClient;
}

export class EngineConnection {
  private client: EngineClient | null = null;
  private nextId = 1;
  private readonly waiters = new Set<Waiter>();
  private readonly createClient: (options?: EngineClientOptions) => EngineClient;

  constructor(options: EngineConnectionOptions = {}) {
    this.createClient = options.createClient ?? createEngineClient;
  }

  /** Whether a worker is started (between `open` and `close`). */
  get isOpen(): boolean {
    return this.client !== null;
  }

  /**
   * Starts a worker; every event it sends first answers waiting requests, then goes to `onEvent`.
   * Events of a worker that was closed since are dropped.
   */
  open(onEvent: (event: EngineEvent) => void): void {
    const c = this.createClient();
    this.client = c;
    c.subscribe((event) => {
      if (this.client !== c) return;
      this.answer(event);
      onEvent(event);
    });
  }

  /** Stops the worker and forgets the requests waiting on it. */
  close(): void {
    this.client?.terminate();
    this.client = null;
    this.waiters.clear();
  }

  /** Sends a command (stamped with a fresh id unless it has one); returns the id. Dropped when closed. */
  send(command: OutgoingCommand): string {
    const id = command.id ?? `c${this.nextId++}`;
    this.client?.send({ ...command, id } as OutgoingCommand);
    return id;
  }

  /** Sends a command and waits for the event that answers it (same id, or `answers` of that type). */
  request(command: OutgoingCommand, answers: EngineEvent['type']): Promise<EngineEvent> {
    const id = `c${this.nextId++}`;
    return new Promise((resolve) => {
      this.waiters.add({ match: (e) => e.id === id || (e.id === undefined && e.type === answers), resolve });
      this.send({ ...command, id } as OutgoingCommand);
    });
  }

  private answer(event: EngineEvent): void {
    for (const w of [...this.waiters]) {
      if (w.match(event)) {
        this.waiters.delete(w);
        w.resolve(event);
      }
    }
  }
}
