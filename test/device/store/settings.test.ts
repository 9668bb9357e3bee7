import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addLogSink, type LogRecord } from '../../../core/log/logger.ts';
import { openSettings } from '../../../device/store/settings.ts';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'portier-settings-'));
  file = join(dir, 'settings.json');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('settings (lowdb)', () => {
  it('round-trips through a reopen, even under NODE_ENV=test, mode 0600, no temp files left', async () => {
    expect(process.env.NODE_ENV).toBe('test'); // JSONFilePreset would silently use memory here
    const s = await openSettings(file);
    expect(s.data).toEqual({ syncCursor: null, values: {} });
    s.data.syncCursor = 'c-42';
    s.data.values.volume = 3;
    await s.write();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['settings.json']);
    const again = await openSettings(file);
    expect(again.data).toEqual({ syncCursor: 'c-42', values: { volume: 3 } });
  });

  it('a failed write leaves the previous file intact', async () => {
    const s = await openSettings(file);
    s.data.syncCursor = 'old';
    await s.write();
    const before = readFileSync(file, 'utf8');
    (s.data.values as Record<string, unknown>).bad = 10n; // JSON.stringify throws on BigInt
    await expect(s.write()).rejects.toThrow();
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(readdirSync(dir)).toEqual(['settings.json']);
  });

  it('an unreadable settings file is moved aside with a logged error and defaults are used', async () => {
    writeFileSync(file, '{"syncCursor": "tru');
    const logs: LogRecord[] = [];
    const off = addLogSink((r) => logs.push(r));
    const s = await openSettings(file);
    off();
    expect(s.data).toEqual({ syncCursor: null, values: {} });
    expect(readdirSync(dir).some((f) => f.startsWith('settings.json.corrupt-'))).toBe(true);
    expect(logs.some((r) => r.level === 'error' && /not valid JSON/.test(r.msg))).toBe(true);
  });
});
