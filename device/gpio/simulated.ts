/**
 * In-memory GPIO for tests and the laptop demo: the program sets input levels (press a button,
 * open the door, make a contact bounce) and reads what the relay output did and when.
 */
import { createLogger } from '../../core/log/logger.ts';
import { systemClock, type Clock } from './clock.ts';
import { Debouncer } from './debounce.ts';
import { Listeners } from './listeners.ts';
import type { Gpio, InputPin, Level, OutputPin } from './types.ts';

const log = createLogger('gpio:simulated');

export interface LevelChange {
  level: Level;
  ts: number;
}

export class SimulatedGpio implements Gpio {
  readonly kind = 'simulated';
  private readonly raw = new Map<number, Level>();
  private readonly outputs = new Map<number, { level: Level; history: LevelChange[]; open: boolean }>();
  private readonly inputs = new Map<number, { debouncer: Debouncer; listeners: Listeners }>();

  /** `inputs`: the raw level of each input line before anything changes it (default 0). */
  constructor(private readonly clock: Clock = systemClock, inputs: Record<number, Level> = {}) {
    for (const [pin, level] of Object.entries(inputs)) this.raw.set(Number(pin), level);
  }

  output(pin: number, initial: Level): OutputPin {
    if (this.inputs.has(pin)) throw new Error(`GPIO ${pin} is already an input`);
    const state = { level: initial, history: [{ level: initial, ts: this.clock.now() }], open: true };
    this.outputs.set(pin, state);
    return {
      pin,
      write: (level) => {
        if (!state.open) throw new Error(`GPIO ${pin} is closed`);
        if (level === state.level) return;
        state.level = level;
        state.history.push({ level, ts: this.clock.now() });
      },
      read: () => state.level,
      close: () => {
        state.open = false;
      },
    };
  }

  input(pin: number, opts: { debounceMs: number }): InputPin {
    if (this.outputs.has(pin)) throw new Error(`GPIO ${pin} is already an output`);
    const listeners = new Listeners();
    const debouncer = new Debouncer(this.raw.get(pin) ?? 0, opts.debounceMs, this.clock, (level, ts) =>
      listeners.emit(level, ts, (err) => log.error('input listener threw', { pin, err: String(err) })),
    );
    this.inputs.set(pin, { debouncer, listeners });
    return {
      pin,
      read: () => debouncer.level,
      onChange: (fn) => listeners.add(fn),
      close: () => {
        debouncer.dispose();
        listeners.clear();
        this.inputs.delete(pin);
      },
    };
  }

  async close(): Promise<void> {
    for (const i of this.inputs.values()) i.debouncer.dispose();
    this.inputs.clear();
    for (const o of this.outputs.values()) o.open = false;
  }

  /** Drive an input line (raw, before debouncing), as the wiring would. */
  setInput(pin: number, level: Level): void {
    this.raw.set(pin, level);
    this.inputs.get(pin)?.debouncer.input(level);
  }

  /** Raw level last set on an input line. */
  inputLevel(pin: number): Level {
    return this.raw.get(pin) ?? 0;
  }

  outputLevel(pin: number): Level | undefined {
    return this.outputs.get(pin)?.level;
  }

  /** Every level an output took, the initial one first. */
  outputHistory(pin: number): LevelChange[] {
    return [...(this.outputs.get(pin)?.history ?? [])];
  }
}
