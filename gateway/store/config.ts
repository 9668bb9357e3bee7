import { z } from 'zod';

export const gatewayStoreConfigSchema = z.strictObject({
  dir: z.string().default('data/gateway').describe('Folder holding the gateway database and (by default) the template key; created 0700.'),
  databaseFile: z
    .string()
    .default('gateway.db')
    .describe('SQLite database (people, encrypted templates, groups, doors, devices, register log, audit log, admin users), relative to dir.'),
  templateKey: z
    .strictObject({
      type: z.enum(['file', 'env']).default('file').describe('Where the 32-byte AES-256-GCM key for templates (and kept photos) comes from.'),
      file: z
        .string()
        .default('template.key')
        .describe('Key file (base64, hex or 32 raw bytes), relative to dir; created 0600 on first start when missing; refused when group/other may read it.'),
      env: z.string().default('PORTIER_GATEWAY_TEMPLATE_KEY').describe('Environment variable holding the key as base64 or hex (type env).'),
    })
    .prefault({})
    .describe('Encryption key for templates at rest.'),
  keepPhotos: z
    .boolean()
    .default(false)
    .describe('Keep enrolment photos, encrypted like the templates. Off (default): only embeddings are stored, and photos kept earlier are deleted at start.'),
  tombstoneRetentionDays: z
    .number()
    .positive()
    .default(30)
    .describe('Deletions stay in the register log this long; a device whose cursor is older than the purged ones gets a full snapshot.'),
  integrityCheck: z.boolean().default(true).describe('Run PRAGMA quick_check at open; a corrupt database stops start-up (the register is never silently replaced).'),
});

export type GatewayStoreConfig = z.output<typeof gatewayStoreConfigSchema>;
export type GatewayStoreConfigInput = z.input<typeof gatewayStoreConfigSchema>;
export const defaultGatewayStoreConfig = (): GatewayStoreConfig => gatewayStoreConfigSchema.parse({});
