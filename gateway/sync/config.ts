import { z } from 'zod';

export const gatewaySyncConfigSchema = z.strictObject({
  keyFile: z.string().default('gateway-keys.pem').describe('Gateway signing (Ed25519) and sealing (X25519) keys, PEM, mode 0600; created on first start; relative to store.dir.'),
  pageSize: z.number().int().min(1).max(300).default(100).describe('People per `changes` message; a device asks again while `more` is true. At most 300 (about 6 KB each with two sealed templates) so a page stays under broker.maxPacketBytes.'),
  commandTimeoutMs: z.number().int().min(100).default(15_000).describe('How long a command (unlock, resync) waits for the device\'s response.'),
  enrolHereTimeoutMs: z.number().int().min(1000).max(120_000).default(45_000).describe('How long an enrol-here command waits for a live capture at the door.'),
  purgeIntervalMs: z.number().int().min(1000).default(3_600_000).describe('How often register tombstones past their retention are purged.'),
  notifyDebounceMs: z.number().int().min(0).default(50).describe('Register changes within this window are announced to devices in one `notify`.'),
});
export type GatewaySyncConfig = z.output<typeof gatewaySyncConfigSchema>;
