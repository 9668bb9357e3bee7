/** ExecStopPost's safe state: the relay ends de-energised for every fail mode and polarity. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config/load.ts';
import { deviceConfigSchema } from '../../device/config.ts';
import { SimulatedGpio } from '../../device/gpio/simulated.ts';
import { driveSafeState } from '../../device/safe-state.ts';

describe('relay safe state after the daemon', () => {
  for (const [failMode, activeLow, expected] of [
    ['secure', false, 0],
    ['secure', true, 1],
    ['safe', false, 0],
    ['safe', true, 1],
  ] as const) {
    it(`fail-${failMode}, activeLow ${activeLow}: drives ${expected}`, async () => {
      const config = parseConfig(deviceConfigSchema, { gpio: { type: 'simulated' }, door: { failMode, relay: { pin: 17, activeLow } } });
      const gpio = new SimulatedGpio();
      expect(await driveSafeState(config, gpio)).toBe(expected);
      expect(gpio.outputHistory(17).map((h) => h.level)).toEqual([expected]);
    });
  }
});
