/**
 * Device commands of `npm run portier -- <command>` (dispatched by scripts/cli.ts):
 *   join <bundle | @file> [--force]   pair with a gateway: make the device keys, keep the broker
 *                                      password (0600), pin the gateway's public keys
 *   keygen                             create the template encryption key (store.templateKey.file)
 * Both read the device config (--config or PORTIER_CONFIG) for store.dir and file names.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../core/config/load.ts';
import { deviceConfigSchema } from './config.ts';
import { joinDevice, keygen } from './provision/join.ts';

export const deviceCommands = ['join', 'keygen'] as const;

export async function runDeviceCli(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { config: { type: 'string' }, force: { type: 'boolean', default: false } } });
  const [cmd, ...args] = positionals;
  const config = loadConfigFile(deviceConfigSchema, values.config ?? process.env.PORTIER_CONFIG);
  if (cmd === 'keygen') {
    if (config.store.templateKey.type !== 'file') {
      console.error(`store.templateKey.type is ${config.store.templateKey.type}: put 32 random bytes (base64) in ${config.store.templateKey.env} instead`);
      return 1;
    }
    console.log(`template key written to ${keygen(config.store.dir, config.store.templateKey.file)} (mode 0600); back it up: templates cannot be read without it`);
    return 0;
  }
  if (cmd === 'join') {
    if (args.length !== 1) {
      console.error('usage: portier join <bundle | @file-with-bundle> [--force] [--config device.json]');
      return 2;
    }
    const bundle = args[0].startsWith('@') ? readFileSync(args[0].slice(1), 'utf8') : args[0];
    const r = await joinDevice({ storeDir: config.store.dir, bundle, config: config.sync, settingsFile: config.store.settingsFile, force: values.force });
    console.log(`joined as ${r.deviceId} (broker ${r.brokerUrl}); device keys ${r.keysCreated ? 'created' : 'kept'} in ${r.keyFile}`);
    console.log(`signing key ${r.signPublicKey}; the gateway pins it at the first connection`);
    if (!config.sync.enabled) console.log('sync.enabled is false in this config: set it to true and restart the device');
    else console.log('restart the device to connect');
    return 0;
  }
  console.error(`unknown device command ${cmd}`);
  return 2;
}
