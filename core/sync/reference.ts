/**
 * The README's MQTT topic reference, generated from the contract: every topic with its
 * direction, QoS, retain flag and an example payload that is checked against the body schema
 * (a test parses every example), so the documentation cannot drift from what the code accepts.
 */
import { bodySchemas, SECOND_TEMPLATES_FEATURE, topics, ttlMs, type DownKind, type UpKind } from './contract.ts';

// Placeholders in the right alphabet and length (32-byte key, 12-byte nonce, 2,048-byte template + tag abbreviated).
const fill = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + seed) & 255)).toString('base64url');
const box = { epk: fill(32, 1), n: fill(12, 2), ct: fill(48, 3) };
const rawKey = (seed: number) => fill(32, seed);
const T = 1_767_000_000_000;

export const exampleBodies: { [K in UpKind]: unknown } & { [K in DownKind]: unknown } = {
  hello: { signPublicKey: rawKey(4), sealPublicKey: rawKey(5), proof: fill(32, 6), software: 'portier 0.1.0' },
  status: {
    door: { id: 'main', state: 'locked', open: false, alarms: [] },
    camera: { status: 'up', driver: 'libcamera' },
    gpio: 'gpiod',
    gallerySize: 212,
    outboxDepth: 0,
    outboxCap: 1000000,
    cursor: 1842,
    versions: { software: '0.1.0', models: { fr_feature: 'int8 sha256:3f9a0c1e', fr_liveness: 'fp32 sha256:77c1b2d4' } },
    securityRejections: 0,
  },
  audit: {
    events: [
      {
        seq: 5121,
        id: '0b7c2a51-6f1e-4a8e-9d59-2f0f7a2d1e11',
        ts: T,
        kind: 'decision',
        body: { device: 'door-1', granted: true, reason: 'granted', personId: 'p-1042', door: 'main', score: 0.71, live: 0.93 },
      },
    ],
  },
  sync: { tid: '5c0e2b8a-0d7e-4a55-b1a8-6f3f1c9e2d40', cursor: 1842, features: [SECOND_TEMPLATES_FEATURE] },
  response: { tid: '9f1d7c3e-52aa-4c0b-8e61-0a4b2f7d9c15', ok: true, result: { live: 0.97, quality: 0.92, template: box } },
  ack: { upTo: 5121, received: 1, duplicates: 0 },
  changes: {
    tid: '5c0e2b8a-0d7e-4a55-b1a8-6f3f1c9e2d40',
    from: 1842,
    to: 1845,
    head: 1845,
    reset: false,
    more: false,
    people: [
      {
        id: 'p-1042',
        name: 'Grace Hopper',
        active: true,
        validFrom: null,
        validUntil: '2027-06-30',
        groups: ['staff'],
        schedules: [{ door: 'main', days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '07:00', to: '19:00' }],
        templates: [box],
        secondTemplates: [box],
      },
    ],
    deleted: ['p-0977'],
    groups: [{ id: 'staff', name: 'Staff', schedules: [{ door: '*', days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00' }] }],
    deletedGroups: [],
  },
  command: { tid: '9f1d7c3e-52aa-4c0b-8e61-0a4b2f7d9c15', command: 'unlock', actor: 'alice', args: { reason: 'courier at the back door' } },
  notify: { head: 1845 },
};

export interface TopicRow {
  topic: string;
  direction: string;
  qos: number;
  retained: boolean;
  description: string;
  example: string;
}

const describeUp: Record<UpKind, string> = {
  hello: 'First message after `portier join` (and on every connect until pinned): the device announces its public keys, proved with the join secret and signed by the announced key.',
  status: 'Door, camera, GPIO driver, gallery size, outbox depth, sync cursor and versions; on connect, on change and every `sync.statusIntervalMs`.',
  audit: 'A batch of outbox events (decisions, door events, security events), oldest first; one batch in flight, resent until acknowledged.',
  sync: 'Ask for register changes after `cursor` (null: none yet, snapshot). `features`: `second-templates` asks for the second embedding templates in `changes` (a device without it gets main templates only; a gateway older than the feature refuses the key, so upgrade the gateway first).',
  response: 'Answer to a command, same `tid`. enrol-here carries the template sealed to the gateway.',
};
const describeDown: Record<DownKind, string> = {
  ack: 'The batch up to `upTo` is stored (exactly once); only this moves the device outbox forward.',
  changes: 'A page of the register as this device may see it (need to know); templates sealed to the device (`secondTemplates`, index by index with `templates`, null where a photo has none: the second embedding templates, only to a device that asked for them). `reset` = snapshot: keep only `keep`. `more` = ask again from `to`.',
  command: '`unlock` (reason), `resync` (forget the cursor) or `enrol-here` (capture a live approach for `personId`). Expires after 30 s.',
  notify: 'The register head moved; a device behind it sends `sync`.',
};

function envelopeExample(type: string, from: string, to: string, body: unknown): string {
  return JSON.stringify({ v: 1, type, from, to, kid: '4be1c0d2a9f3e871', seq: T * 1000, iat: T, exp: T + ttlMs[type as UpKind], body, sig: 'Ed25519 signature, base64url' });
}

export function topicReference(): TopicRow[] {
  const rows: TopicRow[] = [
    { topic: topics.gatewayAvailability(), direction: 'gateway → all', qos: 1, retained: true, description: '`online` / `offline` (plain text); last will `offline`, explicit `offline` on clean stop.', example: 'online' },
    { topic: topics.deviceAvailability('{deviceId}'), direction: 'device → gateway', qos: 1, retained: true, description: '`online` / `offline` (plain text); last will `offline`, explicit `offline` on clean stop.', example: 'offline' },
  ];
  for (const kind of Object.keys(bodySchemas.up) as UpKind[]) {
    rows.push({ topic: topics.up('{deviceId}', kind), direction: 'device → gateway', qos: 1, retained: kind === 'status', description: describeUp[kind], example: envelopeExample(kind, 'door-1', 'gateway', exampleBodies[kind]) });
  }
  for (const kind of Object.keys(bodySchemas.down) as DownKind[]) {
    rows.push({ topic: topics.down('{deviceId}', kind), direction: 'gateway → device', qos: 1, retained: false, description: describeDown[kind], example: envelopeExample(kind, 'gateway', 'door-1', exampleBodies[kind]) });
  }
  return rows;
}

export function topicMarkdown(): string {
  const esc = (t: string) => t.replace(/\|/g, '\\|');
  const lines = ['| topic | direction | QoS | retained | what |', '|---|---|---|---|---|'];
  const examples: string[] = [];
  for (const r of topicReference()) {
    lines.push(`| \`${r.topic}\` | ${r.direction} | ${r.qos} | ${r.retained ? 'yes' : 'no'} | ${esc(r.description)} |`);
    examples.push(`\`${r.topic}\`\n\n\`\`\`json\n${r.example.startsWith('{') ? JSON.stringify(JSON.parse(r.example), null, 2) : r.example}\n\`\`\``);
  }
  return `${lines.join('\n')}\n\nExample payloads (envelope fields: \`v\` version, \`kid\` signer key id, \`seq\` per-sender sequence, \`iat\`/\`exp\` issued/expires in ms, \`sig\` Ed25519 over the canonical JSON of the rest):\n\n${examples.join('\n\n')}`;
}
