import { z } from 'zod';

export const gpioConfigSchema = z.strictObject({
  type: z
    .enum(['simulated', 'onoff'])
    .default('simulated')
    .describe('GPIO driver: onoff (Linux sysfs GPIO on a Raspberry Pi or Jetson) or simulated (in memory, tests and laptop demo).'),
  sysfsBase: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe('Added to every configured pin number to get the sysfs GPIO number: 512 on Raspberry Pi OS kernels 6.6+ (gpiochip512); 0 on older kernels.'),
});

export type GpioConfig = z.output<typeof gpioConfigSchema>;
export const defaultGpioConfig = (): GpioConfig => gpioConfigSchema.parse({});
