/**
 * `npm start` on a fresh clone: the gateway with its embedded broker and one simulated device,
 * provisioned and joined automatically, data under var/demo. The demo person (Grace Hopper,
 * public-domain portrait) is enrolled through the gateway and reaches the device over MQTT; the
 * simulated camera alternates her portrait and a stranger. Lives in scripts/ because it is the
 * one place allowed to start both sides in one process (device/ and gateway/ never import each
 * other). Flags: --http-port (8080), --broker-port (1883), --data (var/demo).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfig } from '../core/config/load.ts';
import { createLogger } from '../core/log/logger.ts';
import { VisionEngine } from '../core/vision/engine.ts';
import { visionConfigSchema } from '../core/vision/config.ts';
import { deviceConfigSchema } from '../device/config.ts';
import { startDevice } from '../device/daemon.ts';
import { prepareDemo } from '../device/demo.ts';
import { joinDevice } from '../device/provision/join.ts';
import type { DecisionEvent } from '../device/recognition/loop.ts';
import { gatewayConfigSchema } from '../gateway/config.ts';
import { startGateway } from '../gateway/gateway.ts';

const log = createLogger('start');
const root = resolve(import.meta.dirname, '..');
const DEVICE_ID = 'demo-door';
const DOOR = 'main';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'http-port': { type: 'string', default: '8080' }, 'broker-port': { type: 'string', default: '1883' }, data: { type: 'string', default: join(root, 'var/demo') } } });
  const data = resolve(values.data!);
  const engine = await VisionEngine.create(visionConfigSchema.parse({ modelDir: join(root, 'models') }));
  const gwConfig = parseConfig(gatewayConfigSchema, {
    store: { dir: join(data, 'gateway') },
    http: { port: Number(values['http-port']) },
    broker: { host: '127.0.0.1', port: Number(values['broker-port']) },
  });
  const gw = await startGateway(gwConfig, { engine });

  // Provision and join the simulated device once; later starts reuse its keys and cursor.
  const deviceInput = await prepareDemo(join(data, 'device'));
  const deviceConfig = parseConfig(deviceConfigSchema, { ...deviceInput, deviceId: DEVICE_ID, recognition: { door: DOOR } });
  if (!gw.store.devices.get(DEVICE_ID) || !existsSync(join(deviceConfig.store.dir, deviceConfig.sync.secretFile))) {
    const p = await gw.provision(DEVICE_ID, { name: 'Demo door (simulated)', doorId: DOOR, reprovision: !!gw.store.devices.get(DEVICE_ID) });
    await joinDevice({ storeDir: deviceConfig.store.dir, bundle: p.bundle, config: deviceConfig.sync, settingsFile: deviceConfig.store.settingsFile, force: true });
    log.info('demo device provisioned and joined', { deviceId: DEVICE_ID });
  }
  if (!gw.store.people.get('grace-hopper')) {
    gw.store.people.create({ id: 'grace-hopper', name: 'Grace Hopper', schedules: [{ door: '*', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '24:00' }] });
    const [fb] = await gw.enrolment.enrolPhotos('grace-hopper', [{ name: 'grace_hopper.jpg', data: readFileSync(join(root, 'test/fixtures/grace_hopper.jpg')) }]);
    log.info('demo person enrolled at the gateway', { accepted: fb.accepted, reasons: fb.quality.reasons });
    gw.sync.registerChanged();
  }

  const device = await startDevice(deviceConfig, { engine });
  device.on('decision', (d: DecisionEvent) => console.log(`${new Date(d.ts).toISOString()} ${d.granted ? 'GRANTED' : 'REFUSED'} ${d.personId ?? 'unknown face'}${d.granted ? '' : ` (${d.reason})`} at ${d.door}`));

  console.log('\nPortier is running (gateway + embedded broker + one simulated device):');
  console.log(`  admin UI   ${gw.http.url}/`);
  console.log(`  API        ${gw.http.url}/api   (health: ${gw.http.url}/api/health, metrics: ${gw.http.url}/metrics)`);
  console.log(`  broker     ${gw.brokerUrl} (devices log in with their own credentials; anonymous refused)`);
  console.log(`  device     ${DEVICE_ID} at door "${DOOR}", status ${device.http ? `http://${device.http.host}:${device.http.port}/state` : 'off'}`);
  const token = gw.auth.setupToken();
  if (token) console.log(`  first run  create the admin account: ${gw.http.url}/setup?token=${token}\n             (or: curl -X POST ${gw.http.url}/api/setup -H 'content-type: application/json' -d '{"token":"${token}","username":"admin","password":"<12+ chars>"}')`);
  else console.log('  log in     POST /api/auth/login with your admin account (reset: npm run portier -- setup-token only while no admin exists)');
  console.log('  Ctrl-C stops everything cleanly.\n');

  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`stopping (${why})`);
    await device.stop();
    await gw.stop();
    await engine.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  log.error('start failed', { error: (err as Error).stack ?? String(err) });
  setTimeout(() => process.exit(1), 500);
});
