/**
 * `ExecStopPost=` of the device unit: drive the lock relay to its de-energised level after the
 * daemon ended, whatever ended it. The daemon's own exit handler covers clean stops and thrown
 * errors, but not a watchdog abort (SIGABRT) or a SIGKILL after a hung event loop, and a sysfs
 * GPIO pin keeps its last level after the process dies: a door left energised open would stay
 * open. This runs in a fresh process and needs nothing but the config and the GPIO.
 *   node --import tsx device/safe-state.ts --config /etc/portier/device.json
 */
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../core/config/load.ts';
import { createLogger } from '../core/log/logger.ts';
import { deviceConfigSchema, type DeviceConfig } from './config.ts';
import { relayLevels } from './door/levels.ts';
import { resolveGpioType } from './gpio/board.ts';
import { createGpio } from './gpio/create.ts';
import type { Gpio, Level } from './gpio/types.ts';

const log = createLogger('safe-state');

/** Drive the relay pin to the de-energised level and release it; returns the level written. */
export async function driveSafeState(config: Pick<DeviceConfig, 'door'>, gpio: Gpio): Promise<Level> {
  const level = relayLevels(config.door).deenergised;
  const pin = gpio.output(config.door.relay.pin, level);
  pin.close();
  await gpio.close();
  return level;
}

if (process.argv[1]?.endsWith('safe-state.ts')) {
  const { values } = parseArgs({ options: { config: { type: 'string' } } });
  try {
    const config = loadConfigFile(deviceConfigSchema, values.config ?? process.env.PORTIER_CONFIG);
    if (resolveGpioType(config.gpio) === 'simulated') {
      log.info('simulated GPIO: nothing to drive');
    } else {
      const level = await driveSafeState(config, createGpio(config.gpio));
      log.info('relay driven to its de-energised level after the daemon stopped', { pin: config.door.relay.pin, level, failMode: config.door.failMode });
    }
  } catch (err) {
    log.error('could not drive the relay to its safe level', { error: (err as Error).message });
    process.exitCode = 1;
  }
}
