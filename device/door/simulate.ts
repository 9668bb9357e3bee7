/**
 * Helpers for the laptop demo and tests: act on a SimulatedGpio the way a person at the door
 * would, using the door's configured pins and levels.
 */
import type { Clock } from '../gpio/clock.ts';
import { systemClock } from '../gpio/clock.ts';
import type { SimulatedGpio } from '../gpio/simulated.ts';
import type { Level } from '../gpio/types.ts';
import type { DoorConfig } from './config.ts';

const other = (l: Level): Level => (l === 1 ? 0 : 1);

export function openDoor(gpio: SimulatedGpio, cfg: DoorConfig): void {
  gpio.setInput(cfg.contact.pin, cfg.contact.openLevel);
}

export function closeDoor(gpio: SimulatedGpio, cfg: DoorConfig): void {
  gpio.setInput(cfg.contact.pin, other(cfg.contact.openLevel));
}

/** Press the exit button and release it after `holdMs` (on the given clock). */
export function pressExitButton(gpio: SimulatedGpio, cfg: DoorConfig, holdMs = 200, clock: Clock = systemClock): void {
  gpio.setInput(cfg.exitButton.pin, cfg.exitButton.pressedLevel);
  clock.setTimeout(() => gpio.setInput(cfg.exitButton.pin, other(cfg.exitButton.pressedLevel)), holdMs);
}

/** Initial raw input levels for a closed door and a released button. */
export function idleInputs(cfg: DoorConfig): Record<number, Level> {
  return { [cfg.contact.pin]: other(cfg.contact.openLevel), [cfg.exitButton.pin]: other(cfg.exitButton.pressedLevel) };
}
