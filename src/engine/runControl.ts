/**
 * Run control: the pause / step / stop state of the one run in progress, as a small object the
 * engine's command handlers flip and the training loop polls at every event (`checkpoint`).
 *
 * Contract: `checkpoint(isStep)` returns at once while running; while paused it waits until
 * `resume`, `step` (one training step, then paused again) or `stop`; after `stop` it throws
 * `StopSignal`. It also gives the host's event loop a turn at most every `yieldEveryMs` so commands
 * (which arrive as messages) get handled during long runs.
 */
export class StopSignal extends Error {}

export class RunControl {
  private paused_ = false;
  private stepsLeft = 0;
  private stopRequested_ = false;
  private wake: (() => void) | null = null;
  private lastYield = 0;

  constructor(
    private readonly yieldToEventLoop: () => Promise<void>,
    private readonly yieldEveryMs = 8,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get paused(): boolean {
    return this.paused_;
  }

  get stopRequested(): boolean {
    return this.stopRequested_;
  }

  /** A fresh run: not paused, not stopping. */
  reset(): void {
    this.paused_ = false;
    this.stopRequested_ = false;
    this.stepsLeft = 0;
  }

  /** Pauses; false if already paused. */
  pause(): boolean {
    if (this.paused_) return false;
    this.paused_ = true;
    return true;
  }

  /** Resumes a paused run; false if it was not paused. */
  resume(): boolean {
    if (!this.paused_) return false;
    this.paused_ = false;
    this.stepsLeft = 0;
    this.wakeUp();
    return true;
  }

  /** While paused: lets exactly one more training step run. */
  step(): void {
    if (!this.paused_) return;
    this.stepsLeft = 1;
    this.wakeUp();
  }

  /** Asks the run to stop at its next checkpoint. */
  stop(): void {
    this.stopRequested_ = true;
    this.wakeUp();
  }

  /** Called after every event of the run; `isStep` for a training step. Throws StopSignal on stop. */
  async checkpoint(isStep: boolean): Promise<void> {
    if (this.now() - this.lastYield >= this.yieldEveryMs) {
      await this.yieldToEventLoop();
      this.lastYield = this.now();
    }
    if (isStep && this.stepsLeft > 0) this.stepsLeft -= 1;
    while (this.paused_ && this.stepsLeft === 0 && !this.stopRequested_) {
      await new Promise<void>((r) => { this.wake = r; });
      this.wake = null;
    }
    if (this.stopRequested_) throw new StopSignal('stopped');
  }

  private wakeUp(): void {
    this.wake?.();
  }
}

/** A MessageChannel round trip (no 4 ms setTimeout clamp); setTimeout(0) where there is none. */
export function defaultYield(): Promise<void> {
  if (typeof MessageChannel === 'undefined') return new Promise((r) => setTimeout(r, 0));
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => { ch.port1.close(); resolve(); };
    ch.port2.postMessage(null);
  });
}
