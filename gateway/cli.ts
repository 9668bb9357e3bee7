/**
 * Gateway commands of `npm run portier -- <command>` (dispatched by scripts/cli.ts). They open
 * the gateway's store directly, so they work with the gateway running (SQLite WAL) or stopped.
 *   provision <deviceId> [--door D] [--name N] [--reprovision]   device record + join bundle
 *     [--mosquitto-passwd FILE] [--mosquitto-acl FILE]           append its Mosquitto lines there
 *   mosquitto-acl                                                 ACL file for every device
 *   setup-token                                                   new one-time admin setup token
 */
import { parseArgs } from 'node:util';
import { appendFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { loadConfigFile } from '../core/config/load.ts';
import { loadOrCreateKeySet } from '../core/sync/keys.ts';
import { resetSetupToken } from './auth/index.ts';
import { mosquittoAclFile } from './broker/mosquitto.ts';
import { gatewayConfigSchema, type GatewayConfig } from './config.ts';
import { openGatewayStore } from './store/open.ts';
import { provisionDevice } from './sync/provision.ts';

export const gatewayCommands = ['provision', 'mosquitto-acl', 'setup-token'] as const;

function brokerUrlFor(config: GatewayConfig): string {
  if (config.broker.advertisedUrl) return config.broker.advertisedUrl;
  if (config.broker.type === 'external') return config.broker.url;
  return config.broker.tls.cert ? `mqtts://127.0.0.1:${config.broker.tls.port}` : `mqtt://127.0.0.1:${config.broker.port}`;
}

export async function runGatewayCli(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { config: { type: 'string' }, door: { type: 'string' }, name: { type: 'string' }, reprovision: { type: 'boolean', default: false }, json: { type: 'boolean', default: false }, 'mosquitto-passwd': { type: 'string' }, 'mosquitto-acl': { type: 'string' } },
  });
  const [cmd, ...args] = positionals;
  const config = loadConfigFile(gatewayConfigSchema, values.config ?? process.env.PORTIER_GATEWAY_CONFIG);
  const store = openGatewayStore(config.store);
  try {
    if (cmd === 'provision') {
      if (args.length !== 1) {
        console.error('usage: portier provision <deviceId> [--door <doorId>] [--name <name>] [--reprovision] [--config gateway.json]');
        return 2;
      }
      const keyFile = isAbsolute(config.sync.keyFile) ? config.sync.keyFile : join(config.store.dir, config.sync.keyFile);
      const { keys } = loadOrCreateKeySet(keyFile);
      const r = await provisionDevice(store, keys, brokerUrlFor(config), args[0], { name: values.name, doorId: values.door ?? null, reprovision: values.reprovision });
      store.audit.record({ actor: 'cli', action: 'device.provision', target: args[0], details: { door: values.door ?? null } });
      // Mosquitto reads these files at start and on SIGHUP (`systemctl reload mosquitto`).
      if (values['mosquitto-passwd']) appendFileSync(values['mosquitto-passwd'], `${r.mosquitto.passwordLine}\n`, { mode: 0o600 });
      if (values['mosquitto-acl']) appendFileSync(values['mosquitto-acl'], `\n${r.mosquitto.aclLines.join('\n')}\n`);
      if (values['mosquitto-passwd'] || values['mosquitto-acl']) console.error('Mosquitto files updated; reload it: sudo systemctl reload mosquitto');
      if (values.json) console.log(JSON.stringify(r));
      else {
        console.log(`Device ${r.deviceId} provisioned. On the device run (the bundle holds its broker password; it is shown once):\n`);
        console.log(`  npm run portier -- join ${r.bundle}\n`);
        console.log('For an external Mosquitto broker (or pass --mosquitto-passwd/--mosquitto-acl FILE) add this line to its password_file:');
        console.log(`  ${r.mosquitto.passwordLine}`);
        console.log('and this block to its acl_file:');
        console.log(r.mosquitto.aclLines.map((l) => `  ${l}`).join('\n'));
      }
      return 0;
    }
    if (cmd === 'mosquitto-acl') {
      process.stdout.write(mosquittoAclFile({ gatewayUsername: config.broker.username, adminUsername: config.broker.adminUsername || undefined, deviceIds: store.devices.list().map((d) => d.id) }));
      return 0;
    }
    if (cmd === 'setup-token') {
      const token = resetSetupToken(store.db);
      if (!token) {
        console.error('an admin account exists already; log in and manage users at /api/users');
        return 1;
      }
      console.log(`one-time setup token: ${token}\nopen <gateway url>/setup?token=${token}`);
      return 0;
    }
    console.error(`unknown gateway command ${cmd}`);
    return 2;
  } finally {
    store.close();
  }
}
