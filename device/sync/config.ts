import { z } from 'zod';

export const syncConfigSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('Sync with a gateway over MQTT once the device has joined one (`portier join <bundle>`); a device that has not joined runs standalone. false: never connect.'),
  keyFile: z
    .string()
    .default('device-keys.pem')
    .describe("The device's Ed25519 (signing) and X25519 (sealing) private keys, mode 0600, made on the device at join; relative to store.dir."),
  secretFile: z.string().default('broker.secret').describe('The broker password from the provisioning bundle, mode 0600; relative to store.dir.'),
  brokerUrl: z.string().min(1).optional().describe('Override the broker URL recorded at join (e.g. mqtts://gateway.lan:8883).'),
  tls: z
    .strictObject({
      ca: z.string().optional().describe('PEM file of the CA that signed the broker certificate (mqtts:// with a private CA).'),
    })
    .prefault({})
    .describe('TLS to the broker.'),
  batchSize: z.number().int().min(1).max(1000).default(200).describe('Audit events per message up; one batch is in flight until the gateway acknowledges it.'),
  ackTimeoutMs: z.number().int().positive().default(5000).describe('Resend the audit batch (or sync request) when the gateway has not answered within this time.'),
  statusIntervalMs: z.number().int().positive().default(30_000).describe('Publish the retained device status this often (and soon after door, camera or gallery changes).'),
  outboxCap: z
    .number()
    .int()
    .positive()
    .default(1_000_000)
    .describe('Audit events waiting for the gateway before /health warns loudly. Events are never dropped: past the cap the device keeps recording.'),
  outboxWarnFraction: z.number().gt(0).max(1).default(0.8).describe('Fraction of outboxCap at which the near-cap metric and /health warning turn on.'),
  reconnectPeriodMs: z.number().int().positive().default(2000).describe('Wait between broker reconnection attempts.'),
  skewMs: z.number().int().nonnegative().default(60_000).describe('Tolerated clock difference for gateway messages issued in the future.'),
});

export type SyncConfig = z.output<typeof syncConfigSchema>;
export type SyncConfigInput = z.input<typeof syncConfigSchema>;
export const defaultSyncConfig = (): SyncConfig => syncConfigSchema.parse({});
