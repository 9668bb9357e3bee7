import { z } from 'zod';

export const gpioTypes = ['gpiod', 'onoff', 'simulated'] as const;
export type GpioType = (typeof gpioTypes)[number];

export const biasValues = ['pull-up', 'pull-down', 'disable', 'as-is'] as const;
const bias = z.enum(biasValues);

/**
 * Where a door pin lives on the character device. A bare string is a line name (found with
 * gpiofind); `{chip, offset}` names the chip by label (e.g. pinctrl-rp1), name (gpiochip0) or number.
 */
const lineSpec = z.union([
  z.string().min(1),
  z.strictObject({ name: z.string().min(1), bias: bias.optional() }),
  z.strictObject({ chip: z.string().min(1), offset: z.number().int().min(0), bias: bias.optional() }),
]);
export type LineSpec = z.output<typeof lineSpec>;

export const gpiodConfigSchema = z.strictObject({
  lines: z
    .record(z.string().regex(/^\d+$/, 'keys are the door pin numbers'), lineSpec)
    .default({})
    .describe(
      'Door pin number (door.relay.pin, door.contact.pin, door.exitButton.pin) -> line: a line name ("GPIO17", a Jetson name such as "PH.00"), {name, bias?} or {chip, offset, bias?} (chip by label, name or number). A pin not listed is the line named GPIO<pin> (Raspberry Pi names its header lines by BCM number).',
    ),
  bias: bias
    .default('pull-up')
    .describe('Bias of every input line (door contact, exit button) unless its lines entry sets one: pull-up suits a reed switch or button wired to ground (the door defaults).'),
  bin: z.string().default('').describe("Folder holding libgpiod's tools (gpioset, gpiomon, gpioget, gpiofind); empty = found on PATH."),
});
export type GpiodConfig = z.output<typeof gpiodConfigSchema>;

export const gpioConfigSchema = z.strictObject({
  type: z
    .enum(gpioTypes)
    .optional()
    .describe(
      'GPIO driver: gpiod (Linux GPIO character device through libgpiod 1.5/1.6 tools, for Raspberry Pi OS and JetPack), onoff (legacy sysfs GPIO) or simulated (in memory, tests and laptop demo). Unset: simulated, except on a Raspberry Pi or Jetson (found in boardModelFile), where startup refuses an unset type.',
    ),
  gpiod: gpiodConfigSchema.prefault({}).describe('Character-device driver (type gpiod).'),
  sysfsBase: z
    .union([z.literal('auto'), z.number().int().min(0)])
    .default('auto')
    .describe(
      'onoff only: added to every pin number to get the sysfs GPIO number. auto: the base of the gpiochip whose label is sysfsChipLabel (571 for pinctrl-rp1 on a Pi 5, 512 for pinctrl-bcm2711 on a Pi 4 with kernel 6.6+).',
    ),
  sysfsChipLabel: z
    .string()
    .default('')
    .describe('onoff only, with sysfsBase auto: label of the header gpiochip in /sys/class/gpio/gpiochip*/label; empty = the first Raspberry Pi one (pinctrl-rp1, pinctrl-bcm2711, pinctrl-bcm2835).'),
  boardModelFile: z
    .string()
    .default('/proc/device-tree/model')
    .describe('Read at start to recognise a Raspberry Pi or Jetson, where gpio.type must be set explicitly.'),
});

export type GpioConfig = z.output<typeof gpioConfigSchema>;
export const defaultGpioConfig = (): GpioConfig => gpioConfigSchema.parse({});
