/**
 * The store's one connection to the engine: the worker client it has started (if any). Not state
 * (never rendered, not serialisable), so it lives beside the zustand state, owned by this one
 * object. Command ids and waiting requests belong to the client (engine/client.ts), whose requests
 * always settle: `close()` rejects the ones still waiting.
 */
import { EngineRequestError, createEngineClient, type EngineClient, type EngineClientOptions, type RequestOptions } from '../engine/client';
import type { EngineEvent, OutgoingCommand } from '../engine/protocol';

export interface EngineConnectionOptions {
  /** For tests: build a different client (default: the bundled engine worker). */
  createClient?: (options?: EngineClientOptions) => EngineClient;
}

export class EngineConnection {
  private client: EngineClient | null = null;
  private readonly createClient: (options?: EngineClientOptions) => EngineClient;

  constructor(options: EngineConnectionOptions = {}) {
    this.createClient = options.createClient ?? createEngineClient;
  }

  /** Whether a worker is started (between `open` and `close`). */
  get isOpen(): boolean {
    return this.client !== null;
  }

  /** Starts a worker; its events go to `onEvent` until `close` (later ones are dropped). */
  open(onEvent: (event: EngineEvent) => void): void {
    const c = this.createClient();
    this.client = c;
    c.subscribe((event) => {
      if (this.client === c) onEvent(event);
    });
  }

  /** Stops the worker; requests still waiting on it reject ('terminated'). */
  close(): void {
    const c = this.client;
    this.client = null;
    c?.terminate();
  }

  /** Sends a command (stamped with a fresh id unless it has one); returns the id, or null when closed. */
  send(command: OutgoingCommand): string | null {
    return this.client ? this.client.send(command) : null;
  }

  /**
   * Sends a command and waits for the event that answers it (same id, or `answers` of that type).
   * Always settles: rejects with an EngineRequestError on an error answer, a failed or stopped
   * engine, or a timeout (see engine/client.ts).
   */
  request(command: OutgoingCommand, answers: EngineEvent['type'], options?: RequestOptions): Promise<EngineEvent> {
    if (!this.client) return Promise.reject(new EngineRequestError(`${command.type} not sent: the engine is not started`, 'terminated'));
    return this.client.request(command, answers, options);
  }
}
