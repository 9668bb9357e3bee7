/**
 * Which GPIO driver runs. A config written for a real door but missing its gpio section must not
 * quietly drive the in-memory relay while the real lock stays untouched, so on a board that has
 * GPIO (a Raspberry Pi or NVIDIA Jetson, recognised from the device-tree model) `gpio.type` has to
 * be explicit. The check reads the raw setting: `type` has no schema default for this reason.
 */
import { readFileSync } from 'node:fs';
import { createLogger } from '../../core/log/logger.ts';
import type { GpioConfig, GpioType } from './config.ts';

const log = createLogger('gpio');

export interface Board {
  kind: 'raspberry-pi' | 'jetson';
  /** As the device tree names it, e.g. "Raspberry Pi 5 Model B Rev 1.0". */
  model: string;
}

/** The board from the device-tree model file, or null off-board (no file, or another machine). */
export function detectBoard(modelFile = '/proc/device-tree/model'): Board | null {
  let model: string;
  try {
    // The device tree stores the model as a NUL-terminated string.
    model = readFileSync(modelFile, 'utf8').replace(/\0/g, '').trim();
  } catch {
    return null;
  }
  if (/raspberry pi/i.test(model)) return { kind: 'raspberry-pi', model };
  if (/jetson/i.test(model)) return { kind: 'jetson', model };
  return null;
}

export class GpioTypeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpioTypeError';
  }
}

/** The driver to start: the configured type, or simulated when unset off-board; throws on a board. */
export function resolveGpioType(cfg: Pick<GpioConfig, 'type' | 'boardModelFile'>): GpioType {
  const board = detectBoard(cfg.boardModelFile);
  if (cfg.type) {
    if (cfg.type === 'simulated' && board) log.warn('simulated GPIO on a real board: the lock relay is not driven', { board: board.model });
    return cfg.type;
  }
  if (board) {
    const suggestion = board.kind === 'raspberry-pi' ? '"gpio": { "type": "gpiod" }' : '"gpio": { "type": "gpiod", "gpiod": { "lines": { "17": "<line name>" } } }';
    throw new GpioTypeError(
      `gpio.type is not set and this is a ${board.model}: refusing to run the door on simulated GPIO. ` +
        `Set ${suggestion} in the device config (see README, Hardware set-up), or "simulated" to run without driving the lock.`,
    );
  }
  return 'simulated';
}
