import { z } from 'zod';

export const systemdConfigSchema = z.strictObject({
  type: z
    .enum(['systemd-notify', 'none'])
    .default('systemd-notify')
    .describe(
      'How sd_notify messages are sent: systemd-notify = spawn the systemd-notify tool (unit needs NotifyAccess=all); none = never. Either way nothing is sent when NOTIFY_SOCKET is unset.',
    ),
  command: z.string().min(1).default('systemd-notify').describe('Path or name of the systemd-notify executable.'),
  commandTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(5000)
    .describe('A systemd-notify call still running after this long is killed and counted as failed.'),
});

export type SystemdConfig = z.output<typeof systemdConfigSchema>;
export const defaultSystemdConfig = (): SystemdConfig => systemdConfigSchema.parse({});
