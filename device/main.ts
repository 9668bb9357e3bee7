/**
 * Device daemon entry point. `npm start` (no config) runs the laptop demo; on a device:
 * `node --import tsx device/main.ts --config /etc/portier/device.json` (see systemd/).
 * SIGTERM/SIGINT stop cleanly and leave the door in its configured safe state.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile, parseConfig } from '../core/config/load.ts';
import { createLogger } from '../core/log/logger.ts';
import { deviceConfigSchema } from './config.ts';
import { startDevice, type Device } from './daemon.ts';
import { enrolDemoPerson, prepareDemo } from './demo.ts';
import { closeDoor, openDoor, pressExitButton } from './door/simulate.ts';
import { SimulatedGpio } from './gpio/simulated.ts';
import type { DecisionEvent } from './recognition/loop.ts';

const log = createLogger('main');

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string' }, demo: { type: 'boolean', default: false } } });
  const file = values.config ?? process.env.PORTIER_CONFIG;
  const demo = !file || values.demo;
  const config = demo ? parseConfig(deviceConfigSchema, await prepareDemo()) : loadConfigFile(deviceConfigSchema, file);
  const device = await startDevice(config);
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`stopping (${why})`);
    await device.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  device.on('decision', (d: DecisionEvent) => console.log(formatDecision(d)));
  device.on('door', (ev: { type: string; reason?: string }) => console.log(`  door: ${ev.type}${ev.reason ? ` (${ev.reason})` : ''}`));
  if (demo) {
    await enrolDemoPerson(device);
    console.log(`Portier demo: door "${config.recognition.door}", ${device.gallery.personCount} enrolled (Grace Hopper); the simulated camera`);
    console.log('plays her walking up, her photo held up on a phone, and a stranger. Status: ' + (device.http ? `http://${device.http.host}:${device.http.port}/state` : 'off'));
    if (process.stdin.isTTY) keyboard(device);
  }
}

function formatDecision(d: DecisionEvent): string {
  const who = d.personId ?? 'unknown face';
  const figures = [d.score !== undefined ? `score ${d.score}` : '', `live ${d.live}`, `${d.latencyMs} ms frame to ${d.granted ? 'relay' : 'record'}`].filter(Boolean).join(', ');
  return `${new Date(d.ts).toISOString()} ${d.granted ? 'GRANTED' : 'REFUSED'} ${who}${d.granted ? '' : ` (${d.reason})`}: ${figures} [event ${d.id}]`;
}

/** Demo keys: r = exit button, o/c = open/close the door, q = quit. */
function keyboard(device: Device): void {
  const gpio = device.gpio;
  if (!(gpio instanceof SimulatedGpio)) return;
  console.log('keys: r = exit button, o = open door, c = close door, q = quit');
  process.stdin.setRawMode(true);
  process.stdin.resume();
  process.stdin.on('data', (b) => {
    const k = b.toString();
    if (k === 'r') pressExitButton(gpio, device.config.door);
    else if (k === 'o') openDoor(gpio, device.config.door);
    else if (k === 'c') closeDoor(gpio, device.config.door);
    else if (k === 'q' || k === '\u0003') process.kill(process.pid, 'SIGTERM');
  });
}

main().catch((err) => {
  if (err instanceof ConfigError) console.error(err.message);
  else log.error('device failed to start', { error: (err as Error).stack ?? String(err) });
  // A short pause keeps a crash-looping service from spinning; systemd restarts it.
  setTimeout(() => process.exit(1), 1000);
});
