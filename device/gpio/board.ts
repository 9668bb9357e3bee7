/**
 * Which GPIO driver runs. A config written for a real door but missing its gpio section must not
 * quietly drive the in-memory relay while the real lock stays untouched, so on a board that has
 * GPIO (a Raspberry Pi or NVIDIA Jetson, recognised from the device tree) `gpio.type` has to be
 * explicit. The check reads the raw setting: `type` has no schema default for this reason.
 *
 * The model string is the carrier board's ("Seeed reComputer J4012", a compute-module carrier's
 * own name), so `compatible` beside it is read too: its list names the SoC (nvidia,tegra234;
 * brcm,bcm2711; brcm,bcm2837) whatever the carrier is called.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createLogger } from '../../core/log/logger.ts';
import type { GpioConfig, GpioType } from './config.ts';

const log = createLogger('gpio');

export interface Board {
  kind: 'raspberry-pi' | 'jetson';
  /** As the device tree names it, e.g. "Raspberry Pi 5 Model B Rev 1.0". */
  model: string;
}

/** Device-tree strings: the model is one NUL-terminated string, compatible a NUL-separated list. */
function readStrings(file: string): string[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\0')
      .map((s) => s.trim())
      .filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * The board from the device-tree model file and the `compatible` file beside it, or null
 * off-board (no files, or another machine).
 */
export function detectBoard(modelFile = '/proc/device-tree/model', compatibleFile = join(dirname(modelFile), 'compatible')): Board | null {
  const model = readStrings(modelFile).join(' ');
  const compatible = readStrings(compatibleFile);
  const name = model || compatible[0] || '';
  if (/raspberry pi/i.test(model) || compatible.some((c) => /^(raspberrypi,|brcm,bcm27|brcm,bcm283[5-7]$)/i.test(c))) return { kind: 'raspberry-pi', model: name };
  if (/jetson/i.test(model) || compatible.some((c) => /^nvidia,tegra/i.test(c))) return { kind: 'jetson', model: name };
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
