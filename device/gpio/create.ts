import { resolveGpioType } from './board.ts';
import type { Clock } from './clock.ts';
import type { GpioConfig } from './config.ts';
import { GpiodGpio } from './gpiod.ts';
import { OnoffGpio, type OnoffClass } from './onoff.ts';
import { SimulatedGpio } from './simulated.ts';
import type { Gpio, Level } from './types.ts';

export interface CreateGpioDeps {
  clock?: Clock;
  onoff?: OnoffClass;
  /** onoff: where sysfs GPIO lives (tests). */
  sysfsRoot?: string;
  /** simulated: the raw level of each input before anything changes it. */
  simulatedInputs?: Record<number, Level>;
}

/**
 * The GPIO driver chosen by `gpio.type` (unset: simulated off-board, refused on a Raspberry Pi
 * or Jetson, see board.ts). gpiod and onoff throw a clear error where they cannot work.
 */
export function createGpio(cfg: GpioConfig, deps: CreateGpioDeps = {}): Gpio {
  const type = resolveGpioType(cfg);
  if (type === 'gpiod') return new GpiodGpio(cfg.gpiod, deps);
  if (type === 'onoff') return new OnoffGpio(cfg, deps);
  return new SimulatedGpio(deps.clock, deps.simulatedInputs);
}
