/**
 * Real GPIO through the `onoff` package (Linux sysfs GPIO with epoll edge interrupts).
 * Outputs are created with direction 'high'/'low', which sets the level atomically with the
 * direction: opening a relay pin with 'out' and then writing would pulse it for a moment.
 * Inputs use onoff's own debounceTimeout (it reads the settled level after the line is quiet),
 * and this driver drops repeats of the last reported level. The sysfs number of a pin is found
 * from its gpiochip's label (sysfs-base.ts) unless gpio.sysfsBase gives it. Legacy: sysfs cannot
 * set pull-ups; prefer gpio.type "gpiod".
 */
import { createRequire } from 'node:module';
import { createLogger } from '../../core/log/logger.ts';
import { systemClock, type Clock } from './clock.ts';
import type { GpioConfig } from './config.ts';
import { Listeners } from './listeners.ts';
import { findSysfsBase } from './sysfs-base.ts';
import type { Gpio, InputPin, Level, OutputPin } from './types.ts';

const log = createLogger('gpio:onoff');

/** The part of onoff's Gpio class used here (a fake in tests). */
export interface OnoffPin {
  readSync(): Level;
  writeSync(value: Level): void;
  watch(cb: (err: Error | null | undefined, value: Level) => void): void;
  unwatchAll(): void;
  unexport(): void;
}
export interface OnoffClass {
  new (gpio: number, direction: 'in' | 'out' | 'high' | 'low', edge?: 'none' | 'both', options?: { debounceTimeout?: number }): OnoffPin;
  accessible: boolean;
}

function loadOnoff(): OnoffClass {
  const require = createRequire(import.meta.url);
  return (require('onoff') as { Gpio: OnoffClass }).Gpio;
}

export class OnoffGpio implements Gpio {
  readonly kind = 'onoff';
  private readonly Cls: OnoffClass;
  private readonly open = new Set<{ close(): void }>();
  /** Added to a pin number to get its sysfs GPIO number. */
  readonly base: number;

  constructor(cfg: GpioConfig, deps: { onoff?: OnoffClass; clock?: Clock; sysfsRoot?: string } = {}) {
    this.Cls = deps.onoff ?? loadOnoff();
    this.clock = deps.clock ?? systemClock;
    if (!this.Cls.accessible) {
      throw new Error(
        'GPIO is not accessible: /sys/class/gpio is missing or not writable. Run on a Raspberry Pi or Jetson with sysfs GPIO ' +
          "enabled, as a user in the 'gpio' group, or set gpio.type to 'gpiod' or 'simulated'.",
      );
    }
    if (cfg.sysfsBase === 'auto') {
      const chip = findSysfsBase(cfg.sysfsChipLabel, deps.sysfsRoot);
      this.base = chip.base;
      log.info('sysfs GPIO base from chip label', chip);
    } else this.base = cfg.sysfsBase;
  }
  private readonly clock: Clock;

  private sysfs(pin: number): number {
    return this.base + pin;
  }

  output(pin: number, initial: Level): OutputPin {
    const g = new this.Cls(this.sysfs(pin), initial ? 'high' : 'low');
    let level: Level = initial;
    const handle = {
      pin,
      write: (v: Level) => {
        g.writeSync(v);
        level = v;
      },
      read: () => level,
      close: () => {
        if (!this.open.delete(handle)) return;
        g.unexport();
      },
    };
    this.open.add(handle);
    return handle;
  }

  input(pin: number, opts: { debounceMs: number }): InputPin {
    const g = new this.Cls(this.sysfs(pin), 'in', 'both', { debounceTimeout: opts.debounceMs });
    const listeners = new Listeners();
    let level = g.readSync();
    g.watch((err, value) => {
      if (err) return log.error('GPIO watch failed', { pin, err: err.message });
      if (value === level) return;
      level = value;
      listeners.emit(value, this.clock.now(), (e) => log.error('input listener threw', { pin, err: String(e) }));
    });
    const handle = {
      pin,
      read: () => level,
      onChange: (fn: (l: Level, ts: number) => void) => listeners.add(fn),
      close: () => {
        if (!this.open.delete(handle)) return;
        listeners.clear();
        g.unwatchAll();
        g.unexport();
      },
    };
    this.open.add(handle);
    return handle;
  }

  async close(): Promise<void> {
    for (const h of [...this.open]) h.close();
  }
}
