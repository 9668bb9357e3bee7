export type Level = 0 | 1;

export interface OutputPin {
  readonly pin: number;
  /** Synchronous on purpose: the crash guard writes the fail level from a process 'exit' handler. */
  write(level: Level): void;
  read(): Level;
  /** Release the pin (sysfs: unexport). The level it keeps afterwards is hardware-defined. */
  close(): void;
}

export interface InputPin {
  readonly pin: number;
  /** The debounced level. */
  read(): Level;
  /** Called once per debounced level change. Returns an unsubscribe function. */
  onChange(fn: (level: Level, ts: number) => void): () => void;
  close(): void;
}

export interface Gpio {
  readonly kind: string;
  /** An output driven to `initial` from the first moment (no glitch to the other level). */
  output(pin: number, initial: Level): OutputPin;
  /** An input with edge events on both edges, debounced in software. */
  input(pin: number, opts: { debounceMs: number }): InputPin;
  /** Release every pin still open. */
  close(): Promise<void>;
  /**
   * Whether the driver's helper processes (gpiod: an output's holder, an input's monitor) all
   * run; false while one waits for its restart. Absent where there are none.
   */
  healthy?(): boolean;
}
