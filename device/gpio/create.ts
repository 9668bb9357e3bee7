import type { Clock } from './clock.ts';
import type { GpioConfig } from './config.ts';
import { OnoffGpio, type OnoffClass } from './onoff.ts';
import { SimulatedGpio } from './simulated.ts';
import type { Gpio } from './types.ts';

/** The GPIO driver chosen by `gpio.type`. onoff throws a clear error where GPIO is not accessible. */
export function createGpio(cfg: GpioConfig, deps: { clock?: Clock; onoff?: OnoffClass } = {}): Gpio {
  return cfg.type === 'onoff' ? new OnoffGpio(cfg, deps) : new SimulatedGpio(deps.clock);
}
