/**
 * The sysfs GPIO number of a header pin is the base of its gpiochip plus the pin, and that base
 * moves between kernels (0 before 6.6, 512 on a Pi 4 with 6.6, 571 on a Pi 5). The chip is found
 * by its label in /sys/class/gpio/gpiochip*, never by a number written into the config.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Labels of the Raspberry Pi header GPIO controllers, newest first. */
export const raspberryPiChipLabels = ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835'];

export function findSysfsBase(label: string, root = '/sys/class/gpio'): { base: number; label: string } {
  const chips: { base: number; label: string }[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(root).filter((n) => /^gpiochip\d+$/.test(n));
  } catch {
    // reported below with the (empty) list of chips found
  }
  for (const name of names) {
    try {
      const chipLabel = readFileSync(join(root, name, 'label'), 'utf8').trim();
      const base = Number(readFileSync(join(root, name, 'base'), 'utf8').trim());
      if (Number.isInteger(base)) chips.push({ base, label: chipLabel });
    } catch {
      // a chip without readable attributes cannot be ours
    }
  }
  const wanted = label ? [label] : raspberryPiChipLabels;
  for (const w of wanted) {
    const hit = chips.find((c) => c.label === w);
    if (hit) return hit;
  }
  const found = chips.map((c) => `${c.label} (base ${c.base})`).join(', ') || 'none';
  throw new Error(
    `no gpiochip labelled ${wanted.join(' or ')} in ${root} (found: ${found}): set gpio.sysfsChipLabel to the header's chip, ` +
      'or gpio.sysfsBase to a number, or use gpio.type "gpiod"',
  );
}
