/**
 * The laptop demo behind `npm start` without a config: a simulated camera plays a scenario built
 * from the two public-domain portraits (one enrolled, one a stranger), on simulated GPIO, with
 * data under var/demo. Nothing here is used on a real device.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomicSync } from '../core/fs/atomic.ts';
import type { DeviceConfigInput } from './config.ts';
import { enrolPerson } from './enrol.ts';
import type { Device } from './daemon.ts';
import { generateKeyFile } from './store/crypto.ts';

const root = resolve(import.meta.dirname, '..');
export const DEMO_PERSON = { id: 'grace-hopper', name: 'Grace Hopper' };

/** Prepare var/demo (key, scenario clips) and return the demo configuration. */
export function prepareDemo(dir = join(root, 'var/demo')): DeviceConfigInput {
  mkdirSync(join(dir, 'clips/enrolled'), { recursive: true });
  mkdirSync(join(dir, 'clips/stranger'), { recursive: true });
  const key = join(dir, 'template.key');
  if (!existsSync(key)) generateKeyFile(key);
  const copy = (from: string, to: string) => existsSync(to) || writeFileAtomicSync(to, readFileSync(from));
  copy(join(root, 'test/fixtures/grace_hopper.jpg'), join(dir, 'clips/enrolled/1.jpg'));
  copy(join(root, 'test/fixtures/astronaut_eileen_collins.png'), join(dir, 'clips/stranger/1.png'));
  const scenario = [{ clip: 'clips/enrolled', seconds: 4 }, { idle: 3 }, { clip: 'clips/stranger', seconds: 4 }, { idle: 3 }];
  writeFileAtomicSync(join(dir, 'scenario.json'), JSON.stringify(scenario, null, 2));
  return {
    deviceId: 'demo-door',
    store: { dir },
    camera: { type: 'simulated', fps: 5, simulated: { source: join(dir, 'scenario.json'), loop: true } },
    gpio: { type: 'simulated' },
    http: { port: 0 },
  };
}

/** Enrol the demo person (24/7 access) unless already enrolled. */
export async function enrolDemoPerson(device: Device): Promise<void> {
  if (device.gallery.has(DEMO_PERSON.id)) return;
  await enrolPerson(device, {
    ...DEMO_PERSON,
    active: true,
    validFrom: null,
    validUntil: null,
    groups: [],
    schedules: [{ door: '*', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '24:00' }],
  }, [{ label: 'grace_hopper.jpg', data: readFileSync(join(root, 'test/fixtures/grace_hopper.jpg')) }]);
}
