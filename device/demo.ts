/**
 * The laptop demo behind `npm start` without a config: a simulated camera plays a scenario built
 * from the two public-domain portraits, on simulated GPIO, with data under var/demo: the
 * enrolled person walking up (granted), the same person's photo held up on a phone (refused,
 * not_live), and a stranger (unknown). The clips are crafted from the portraits on the first run
 * (scripts/pad/crafted.ts, a few seconds) and kept. Nothing here is used on a real device.
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

const CLIPS = [
  { file: 'enrolled-live.mjpeg', portrait: 'grace_hopper.jpg', kind: 'live' },
  { file: 'enrolled-on-phone.mjpeg', portrait: 'grace_hopper.jpg', kind: 'phone' },
  { file: 'stranger-live.mjpeg', portrait: 'astronaut_eileen_collins.png', kind: 'live' },
] as const;

/** Prepare var/demo (key, scenario clips) and return the demo configuration. */
export async function prepareDemo(dir = join(root, 'var/demo')): Promise<DeviceConfigInput> {
  mkdirSync(join(dir, 'clips'), { recursive: true });
  const key = join(dir, 'template.key');
  if (!existsSync(key)) generateKeyFile(key);
  const missing = CLIPS.filter((c) => !existsSync(join(dir, 'clips', c.file)));
  if (missing.length) {
    console.log('Preparing the demo clips (first run only, a few seconds)...');
    const { craftedClip } = await import('../scripts/pad/crafted.ts');
    for (const c of missing) {
      const frames = await craftedClip({ portrait: join(root, 'test/fixtures', c.portrait), kind: c.kind, frames: 20, fps: 5, seed: 7 });
      writeFileAtomicSync(join(dir, 'clips', c.file), Buffer.concat(frames));
    }
  }
  const scenario = CLIPS.flatMap((c) => [{ clip: `clips/${c.file}`, seconds: 4 }, { idle: 3 }]);
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
