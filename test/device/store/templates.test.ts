import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addLogSink, type LogRecord } from '../../../core/log/logger.ts';
import { generateKeyFile, KeyError, loadKeyCredential, loadKeyEnv, loadKeyFile } from '../../../device/store/crypto.ts';
import { openStore, type DeviceStore } from '../../../device/store/store.ts';

let dir: string;
const stores: DeviceStore[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'portier-tpl-'));
});
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  rmSync(dir, { recursive: true, force: true });
});

async function store(keyHex: string): Promise<DeviceStore> {
  const s = await openStore({ dir, templateKey: { type: 'env', env: 'K', file: 'unused' } }, { env: { K: keyHex } });
  stores.push(s);
  return s;
}

const vec = (seed: number) => Float32Array.from({ length: 512 }, (_, i) => Math.sin(i * 0.1 + seed));

function collect(s: DeviceStore): { got: [string, Float32Array][]; result: { loaded: number; rejected: number } } {
  const got: [string, Float32Array][] = [];
  const result = s.loadGallery({ addTemplate: (id, e) => got.push([id, e]) });
  return { got, result };
}

function captureLogs(): { logs: LogRecord[]; off: () => void } {
  const logs: LogRecord[] = [];
  return { logs, off: addLogSink((r) => logs.push(r)) };
}

describe('templates at rest', () => {
  it('round-trips through AES-256-GCM and a reopen; the stored bytes are not the plaintext', async () => {
    const key = randomBytes(32).toString('hex');
    let s = await store(key);
    s.templates.add('alice', vec(1));
    s.templates.add('alice', vec(2));
    s.templates.add('bob', vec(3));
    const raw = s.db.prepare('SELECT nonce, tag, data FROM templates').all() as { nonce: Buffer; tag: Buffer; data: Buffer }[];
    expect(raw[0].nonce.length).toBe(12);
    expect(raw[0].tag.length).toBe(16);
    expect(raw[0].data.equals(Buffer.from(vec(1).buffer))).toBe(false);
    expect(raw[0].nonce.equals(raw[1].nonce)).toBe(false);
    s.close();
    stores.length = 0;
    s = await store(key);
    const { got, result } = collect(s);
    expect(result).toEqual({ loaded: 3, rejected: 0 });
    expect(got.map(([id]) => id)).toEqual(['alice', 'alice', 'bob']);
    expect(Array.from(got[1][1])).toEqual(Array.from(vec(2)));
    expect(s.templates.list('bob').map((e) => Array.from(e))).toEqual([Array.from(vec(3))]);
  });

  it('rejects every row under a wrong key, with a logged error, loading nothing', async () => {
    let s = await store(randomBytes(32).toString('hex'));
    s.templates.add('alice', vec(1));
    s.close();
    stores.length = 0;
    s = await store(randomBytes(32).toString('hex'));
    const { logs, off } = captureLogs();
    const { got, result } = collect(s);
    off();
    expect(got).toHaveLength(0);
    expect(result).toEqual({ loaded: 0, rejected: 1 });
    expect(logs.some((r) => r.level === 'error' && /failed authentication/.test(r.msg))).toBe(true);
  });

  it('rejects a tampered row and a row moved to another person, loading the rest', async () => {
    const s = await store(randomBytes(32).toString('hex'));
    const a = s.templates.add('alice', vec(1));
    const b = s.templates.add('bob', vec(2));
    s.templates.add('carol', vec(3));
    const row = s.db.prepare('SELECT data FROM templates WHERE id = ?').get(a) as { data: Buffer };
    row.data[10] ^= 1;
    s.db.prepare('UPDATE templates SET data = ? WHERE id = ?').run(row.data, a);
    s.db.prepare("UPDATE templates SET person_id = 'carol' WHERE id = ?").run(b);
    const { logs, off } = captureLogs();
    const { got, result } = collect(s);
    off();
    expect(result).toEqual({ loaded: 1, rejected: 2 });
    expect(got.map(([id]) => id)).toEqual(['carol']);
    expect(logs.filter((r) => r.level === 'error' && r.fields?.templateId !== undefined).map((r) => r.fields!.templateId).sort()).toEqual([a, b].sort());
  });

  it('removePerson deletes the person row and their templates together', async () => {
    const s = await store(randomBytes(32).toString('hex'));
    s.persons.upsert({ id: 'alice', name: 'Alice', active: true, validFrom: '2026-01-01T00:00:00Z', validUntil: null, groups: ['staff'], schedules: [{ days: [1, 2], from: '08:00', to: '18:00' }] });
    s.templates.add('alice', vec(1));
    expect(s.persons.get('alice')).toEqual({ id: 'alice', name: 'Alice', active: true, validFrom: '2026-01-01T00:00:00Z', validUntil: null, groups: ['staff'], schedules: [{ days: [1, 2], from: '08:00', to: '18:00' }] });
    s.persons.upsert({ ...s.persons.get('alice')!, active: false });
    expect(s.persons.list().map((p) => p.active)).toEqual([false]);
    expect(s.removePerson('alice')).toBe(true);
    expect(s.persons.get('alice')).toBeUndefined();
    expect(s.templates.list('alice')).toEqual([]);
    expect(s.config.storeFaceImages).toBe(false);
  });
});

describe('template key', () => {
  it('generates a 0600 key file, loads it, and refuses to overwrite it', () => {
    const f = join(dir, 'template.key');
    generateKeyFile(f);
    expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(loadKeyFile(f).length).toBe(32);
    expect(() => generateKeyFile(f)).toThrow(/refusing to overwrite/);
  });

  it('refuses a group- or world-readable key file with a clear error', () => {
    const f = join(dir, 'template.key');
    generateKeyFile(f);
    chmodSync(f, 0o644);
    expect(() => loadKeyFile(f)).toThrow(KeyError);
    expect(() => loadKeyFile(f)).toThrow(/mode 644.*chmod 600/);
    chmodSync(f, 0o640);
    expect(() => loadKeyFile(f)).toThrow(/group\/other/);
  });

  it('openStore with a file key fails before opening anything when the key is missing', async () => {
    await expect(openStore({ dir })).rejects.toThrow(/template key file .* cannot be read/);
  });

  it('type credential: reads $CREDENTIALS_DIRECTORY/<name> as systemd delivers it (0400/0440, no owner check), with the unit line when missing', async () => {
    const creds = join(dir, 'credentials');
    mkdirSync(creds);
    const k = randomBytes(32);
    writeFileSync(join(creds, 'portier-template-key'), k.toString('base64'), { mode: 0o440 });
    expect(loadKeyCredential('portier-template-key', { CREDENTIALS_DIRECTORY: creds }).equals(k)).toBe(true);
    expect(() => loadKeyCredential('portier-template-key', {})).toThrow(/CREDENTIALS_DIRECTORY is not set.*LoadCredentialEncrypted=portier-template-key:\/etc\/credstore\.encrypted\/portier-template-key\.cred/);
    expect(() => loadKeyCredential('other', { CREDENTIALS_DIRECTORY: creds })).toThrow(/credential other cannot be read.*LoadCredentialEncrypted=other:/);
    expect(() => loadKeyCredential('../template.key', { CREDENTIALS_DIRECTORY: creds })).toThrow(/not a plain file name/);
    const s = await openStore({ dir, templateKey: { type: 'credential' } }, { env: { CREDENTIALS_DIRECTORY: creds } });
    stores.push(s);
    s.templates.add('alice', vec(1));
    expect(collect(s).result).toEqual({ loaded: 1, rejected: 0 });
    await expect(openStore({ dir, templateKey: { type: 'credential' } }, { env: {} })).rejects.toThrow(KeyError);
  });

  it('accepts hex, base64 and 32 raw bytes; rejects other lengths', () => {
    const k = randomBytes(32);
    expect(loadKeyEnv('K', { K: k.toString('hex') }).equals(k)).toBe(true);
    expect(loadKeyEnv('K', { K: k.toString('base64') }).equals(k)).toBe(true);
    const raw = join(dir, 'raw.key');
    writeFileSync(raw, k, { mode: 0o600 });
    expect(loadKeyFile(raw).equals(k)).toBe(true);
    expect(() => loadKeyEnv('K', { K: randomBytes(16).toString('hex') })).toThrow(/32 bytes/);
    expect(() => loadKeyEnv('K', {})).toThrow(/not set/);
  });
});
