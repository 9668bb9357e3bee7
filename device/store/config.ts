import { z } from 'zod';
import { credentialNamePattern } from '../../core/crypto/at-rest.ts';

export const storeConfigSchema = z.strictObject({
  dir: z.string().default('data').describe('Folder holding the settings file, the database and (by default) the template key.'),
  settingsFile: z.string().default('settings.json').describe('Small documents (device settings, sync cursor), relative to dir.'),
  databaseFile: z.string().default('portier.db').describe('SQLite database (audit outbox, persons, encrypted templates), relative to dir.'),
  onCorrupt: z
    .enum(['salvage', 'quarantine', 'refuse'])
    .default('salvage')
    .describe('A corrupt database at open: salvage = move it aside as <name>.corrupt-<ts> and copy every readable row (unsynced audit events, people, templates) into a fresh file, counting what was lost; quarantine = move it aside and start empty; refuse = do not start.'),
  integrityCheck: z.boolean().default(true).describe('Run PRAGMA quick_check at open (reads the whole file once).'),
  templateKey: z
    .strictObject({
      type: z
        .enum(['file', 'env', 'credential'])
        .default('file')
        .describe(
          'Where the 32-byte AES-256-GCM template key comes from: file (in store.dir beside the database), env (an environment variable), or credential (a systemd credential, encrypted on disk with the TPM2 and/or host key; see README, Privacy and security).',
        ),
      file: z.string().default('template.key').describe("Key file (base64, hex or 32 raw bytes), mode 0600, owned by the daemon's user; relative to dir."),
      env: z.string().default('PORTIER_TEMPLATE_KEY').describe('Environment variable holding the key as base64 or hex.'),
      credential: z
        .string()
        .regex(credentialNamePattern, 'a plain file name')
        .default('portier-template-key')
        .describe('systemd credential name: the key is read from $CREDENTIALS_DIRECTORY/<name>, filled by LoadCredentialEncrypted=<name>:<file> (or LoadCredential=) in the unit.'),
    })
    .prefault({})
    .describe('Encryption key for templates at rest.'),
  storeFaceImages: z
    .boolean()
    .default(false)
    .describe('Keep enrolment photos, encrypted like the templates. Off (default): only embeddings are stored and no face image is ever written or sent.'),
});

export type StoreConfig = z.output<typeof storeConfigSchema>;
export const defaultStoreConfig = (): StoreConfig => storeConfigSchema.parse({});
