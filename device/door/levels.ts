/**
 * Relay levels: which pin level means what, for each fail mode and relay polarity.
 *
 * "Energised" is the relay coil on. Relay boards de-energise when their input is not driven
 * (power cut, board reset, pin not configured), so the fail mode is really a wiring choice that
 * this software has to match:
 *   - fail-secure: the lock is wired so that a de-energised relay means LOCKED
 *     (strike or bolt needs power to open). Unlock = energise.
 *   - fail-safe:   the lock is wired so that a de-energised relay means UNLOCKED
 *     (maglock held by power through the relay). Locked = energised, unlock = de-energise.
 *
 * | failMode | relay.activeLow | locked pin | unlocked pin | on start   | on clean stop       | process killed / power lost              |
 * |----------|-----------------|------------|--------------|------------|---------------------|------------------------------------------|
 * | secure   | false           | 0 (low)    | 1 (high)     | 0 locked   | 0 locked, unexport  | de-energised = locked                    |
 * | secure   | true            | 1 (high)   | 0 (low)      | 1 locked   | 1 locked, unexport  | de-energised = locked                    |
 * | safe     | false           | 1 (high)   | 0 (low)      | 1 locked   | 0 unlocked, unexport| de-energised = unlocked                  |
 * | safe     | true            | 0 (low)    | 1 (high)     | 0 locked   | 1 unlocked, unexport| de-energised = unlocked                  |
 *
 * A clean stop drives the same de-energised level the relay takes when the process dies, so a
 * stop and a crash leave the door in the same state. Caveat for sysfs GPIO: on a Raspberry Pi a
 * pin keeps driving its last level after the process dies or unexports it. The door therefore
 * writes the de-energised level synchronously from a process 'exit' handler (covers thrown
 * errors, process.exit, SIGTERM/SIGINT once the daemon turns them into exit). A SIGKILL or a
 * kernel hang skips that handler: systemd restarts the daemon, whose start() drives the locked
 * level again; a hardware watchdog covers the rest.
 */
import type { Level } from '../gpio/types.ts';
import type { DoorConfig } from './config.ts';

export interface RelayLevels {
  locked: Level;
  unlocked: Level;
  /** The level of a de-energised relay: applied on stop and by the crash guard. */
  deenergised: Level;
}

export function relayLevels(cfg: Pick<DoorConfig, 'failMode' | 'relay'>): RelayLevels {
  const energised: Level = cfg.relay.activeLow ? 0 : 1;
  const deenergised: Level = energised === 1 ? 0 : 1;
  return cfg.failMode === 'secure'
    ? { locked: deenergised, unlocked: energised, deenergised }
    : { locked: energised, unlocked: deenergised, deenergised };
}
