/**
 * Doctor: the board and its GPIO. Nothing here requests a line: a requested output would be
 * driven (the lock could open), and the running daemon holds the door's lines. Lines are only
 * looked up (gpiofind) and the device nodes checked for access.
 */
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeviceConfig } from '../config.ts';
import { detectBoard, type Board } from '../gpio/board.ts';
import { GpiodGpio } from '../gpio/gpiod.ts';
import { findSysfsBase } from '../gpio/sysfs-base.ts';
import { fail, ok, warn, type Check, type DoctorEnv } from './types.ts';

const canReadWrite = (file: string): boolean => {
  try {
    accessSync(file, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
};

export function checkBoard(env: DoctorEnv): { board: Board | null; check: Check } {
  const board = detectBoard(env.modelFile);
  if (board) return { board, check: ok('board', `${board.model} (${board.kind})`) };
  let model = '';
  try {
    model = readFileSync(env.modelFile, 'utf8').replace(/\0/g, '').trim();
  } catch {
    // no device tree: a PC or VM
  }
  return {
    board: null,
    check: warn('board', model ? `${model}: not a Raspberry Pi or Jetson` : `no ${env.modelFile}: not a single-board computer`, 'run doctor on the door controller itself'),
  };
}

/** The gpiochips sysfs and /dev show, and whether this user may open the character devices. */
export function checkGpioChips(env: DoctorEnv, cfg: DeviceConfig): Check {
  const chips: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(env.sysfsGpio).filter((n) => /^gpiochip\d+$/.test(n));
  } catch {
    // no sysfs GPIO class
  }
  for (const n of names.sort((a, b) => Number(a.slice(8)) - Number(b.slice(8)))) {
    const attr = (a: string) => {
      try {
        return readFileSync(join(env.sysfsGpio, n, a), 'utf8').trim();
      } catch {
        return '?';
      }
    };
    chips.push(`${attr('label')} (base ${attr('base')}, ${attr('ngpio')} lines)`);
  }
  let nodes: string[] = [];
  try {
    nodes = readdirSync(env.devDir).filter((n) => /^gpiochip\d+$/.test(n));
  } catch {
    // no /dev
  }
  const denied = nodes.filter((n) => !canReadWrite(join(env.devDir, n)));
  const found = `sysfs: ${chips.join(', ') || 'none'}; ${env.devDir}: ${nodes.sort().join(' ') || 'no gpiochip nodes'}`;
  const needsChips = cfg.gpio.type === 'gpiod' || cfg.gpio.type === 'onoff';
  if (!chips.length && !nodes.length) {
    return needsChips ? fail('gpio chips', found, 'no GPIO controller is visible: run on the board (a container needs /dev/gpiochip* passed through)') : ok('gpio chips', `${found} (not needed by ${cfg.gpio.type ?? 'simulated'} GPIO)`);
  }
  if (denied.length && cfg.gpio.type === 'gpiod') {
    return fail('gpio chips', `${found}; no read/write access to ${denied.join(' ')}`, "add the daemon's user to the gpio group (usermod -aG gpio portier; the unit sets SupplementaryGroups=gpio)");
  }
  return ok('gpio chips', found);
}

/** The configured driver and whether it could open the door's pins. */
export function checkGpioDriver(env: DoctorEnv, cfg: DeviceConfig, board: Board | null): Check[] {
  const type = cfg.gpio.type;
  if (!type) {
    if (board) return [fail('gpio driver', `gpio.type is not set on a ${board.model}: the daemon refuses to start`, 'set "gpio": { "type": "gpiod" } in the device config (README, Hardware set-up)')];
    return [ok('gpio driver', 'simulated (gpio.type unset, not on a board)')];
  }
  if (type === 'simulated') {
    return [board ? warn('gpio driver', `simulated on a ${board.model}: the lock relay is not driven`, 'set gpio.type to "gpiod"') : ok('gpio driver', 'simulated')];
  }
  const pins = doorPins(cfg);
  if (type === 'onoff') {
    const out: Check[] = [];
    try {
      const base = cfg.gpio.sysfsBase === 'auto' ? findSysfsBase(cfg.gpio.sysfsChipLabel, env.sysfsGpio) : { base: cfg.gpio.sysfsBase, label: 'gpio.sysfsBase' };
      const exp = join(env.sysfsGpio, 'export');
      if (!existsSync(exp) || !canReadWrite(exp)) {
        return [fail('gpio driver', `onoff: ${exp} is missing or not writable`, 'sysfs GPIO is deprecated and may be off in this kernel: use gpio.type "gpiod"; else add the user to the gpio group')];
      }
      out.push(ok('gpio driver', `onoff (sysfs), base ${base.base} from ${base.label}: ${pins.map((p) => `${p.role} ${p.pin} -> gpio${base.base + p.pin}`).join(', ')}`));
      out.push(warn('gpio bias', 'onoff cannot set pull-ups: inputs float unless the board or wiring pulls them', 'use gpio.type "gpiod" (sets gpio.gpiod.bias), or fit external pull resistors'));
    } catch (err) {
      out.push(fail('gpio driver', `onoff: ${(err as Error).message}`));
    }
    return out;
  }
  let gpio: GpiodGpio;
  try {
    gpio = new GpiodGpio(cfg.gpio.gpiod);
  } catch (err) {
    return [fail('gpio driver', `gpiod: ${(err as Error).message}`, 'install the tools: sudo apt install gpiod')];
  }
  const found: string[] = [];
  const problems: string[] = [];
  for (const p of pins) {
    try {
      const line = gpio.resolve(p.pin);
      const node = /^gpiochip\d+$/.test(line.chip) ? join(env.devDir, line.chip) : undefined;
      if (node && !canReadWrite(node)) problems.push(`${p.role} ${line.label}: no read/write access to ${node}`);
      found.push(`${p.role} ${p.pin} -> ${line.label} (${line.chip}:${line.offset})`);
    } catch (err) {
      problems.push(`${p.role} pin ${p.pin}: ${(err as Error).message}`);
    }
  }
  const what = `gpiod (libgpiod ${/v\d+\.\d+(\.\d+)?/.exec(gpio.tools.version.text)?.[0] ?? gpio.tools.version.text}), input bias ${cfg.gpio.gpiod.bias}: ${found.join(', ') || 'no line found'}`;
  if (problems.length) return [fail('gpio driver', `${what}; ${problems.join('; ')}`, 'map each door pin to a line in gpio.gpiod.lines (line names: gpioinfo), and run as a member of the gpio group')];
  return [ok('gpio driver', what)];
}

function doorPins(cfg: DeviceConfig): { role: string; pin: number }[] {
  const pins = [{ role: 'relay', pin: cfg.door.relay.pin }];
  if (cfg.door.contact.enabled) pins.push({ role: 'contact', pin: cfg.door.contact.pin });
  if (cfg.door.exitButton.enabled) pins.push({ role: 'exit button', pin: cfg.door.exitButton.pin });
  return pins;
}
