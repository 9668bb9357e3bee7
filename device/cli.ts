/**
 * Device commands of `npm run portier -- <command>` (dispatched by scripts/cli.ts):
 *   join <bundle | @file> [--force]   pair with a gateway: make the device keys, keep the broker
 *                                      password (0600), pin the gateway's public keys
 *   keygen                             create the template encryption key (store.templateKey.file)
 *   doctor                             check the board, GPIO, camera, key, store, models, sync and
 *                                      clock; OK / WARN / FAIL with the fix, exit code 1 on a FAIL
 * All read the device config (--config or PORTIER_CONFIG).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../core/config/load.ts';
import { setLogLevel } from '../core/log/logger.ts';
import { deviceConfigSchema } from './config.ts';
import { joinDevice, keygen } from './provision/join.ts';

export const deviceCommands = ['join', 'keygen', 'doctor'] as const;

export async function runDeviceCli(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { config: { type: 'string' }, force: { type: 'boolean', default: false } } });
  const [cmd, ...args] = positionals;
  const config = loadConfigFile(deviceConfigSchema, values.config ?? process.env.PORTIER_CONFIG);
  if (cmd === 'doctor') {
    // The report goes to stdout; driver start-up chatter would only bury it.
    if (!process.env.PORTIER_LOG_LEVEL) setLogLevel('warn');
    const { formatReport, runDoctor } = await import('./doctor.ts');
    const report = await runDoctor(config);
    console.log(formatReport(report));
    return report.failed ? 1 : 0;
  }
  if (cmd === 'keygen') {
    const k = config.store.templateKey;
    if (k.type === 'credential') {
      console.error(
        `store.templateKey.type is credential: make the key as a systemd credential instead (TPM2-sealed; --with-key=host where there is no TPM):\n` +
          `  head -c 32 /dev/urandom | base64 | sudo systemd-creds encrypt --name=${k.credential} --with-key=tpm2 - /etc/credstore.encrypted/${k.credential}.cred\n` +
          `and add LoadCredentialEncrypted=${k.credential}:/etc/credstore.encrypted/${k.credential}.cred to the unit (see systemd/portier-device.service)`,
      );
      return 1;
    }
    if (k.type !== 'file') {
      console.error(`store.templateKey.type is ${k.type}: put 32 random bytes (base64) in ${k.env} instead`);
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
