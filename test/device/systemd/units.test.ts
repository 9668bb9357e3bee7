import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const unitDir = fileURLToPath(new URL('../../../systemd/', import.meta.url));
const units = ['portier-device.service', 'portier-gateway.service'];

/** key -> values of one section, ignoring comments. */
function section(file: string, name: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current = '';
  for (const raw of readFileSync(join(unitDir, file), 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^\[(.+)\]$/.exec(line);
    if (m) {
      current = m[1];
      continue;
    }
    if (current !== name) continue;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

describe('systemd unit files', () => {
  it('device unit: notify + watchdog + restart, dedicated user in gpio/video, hardened with a writable data dir', () => {
    const s = section('portier-device.service', 'Service');
    const one = (k: string) => s.get(k)?.at(-1);
    expect(one('Type')).toBe('notify');
    expect(one('NotifyAccess')).toBe('all'); // required by the systemd-notify transport
    expect(one('WatchdogSec')).toMatch(/^\d+s$/);
    expect(one('Restart')).toBe('on-failure');
    expect(one('KillSignal')).toBe('SIGTERM');
    expect(one('TimeoutStopSec')).toMatch(/^\d+s$/);
    expect(one('User')).toBe('portier');
    expect(one('SupplementaryGroups')!.split(/\s+/).sort()).toEqual(['gpio', 'video']);
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('ReadWritePaths')).toBe('/var/lib/portier');
    expect(one('StateDirectory')).toBe('portier');
    // sysfs GPIO and camera device nodes must stay reachable
    expect(s.has('PrivateDevices')).toBe(false);
    expect(s.has('ProtectKernelTunables')).toBe(false);
  });

  it('device unit: after any end of the daemon, ExecStopPost drives the relay to its safe level', () => {
    const s = section('portier-device.service', 'Service');
    expect(s.get('ExecStopPost')?.join(' ')).toMatch(/^-\/usr\/bin\/node --import tsx device\/safe-state\.ts --config \/etc\/portier\/device\.json$/);
  });

  it('Jetson drop-in: the Argus socket reaches the private /tmp, started after nvargus-daemon', () => {
    const file = 'portier-device.service.d/jetson.conf';
    const unit = section(file, 'Unit');
    const service = section(file, 'Service');
    expect(unit.get('After')).toContain('nvargus-daemon.service');
    expect(unit.get('Wants')).toContain('nvargus-daemon.service');
    expect(service.get('BindPaths')).toEqual(['-/tmp/argus_socket']);
    // The base unit keeps its private /tmp; the drop-in only binds the one socket into it.
    expect(section('portier-device.service', 'Service').get('PrivateTmp')).toEqual(['yes']);
    expect(service.has('PrivateTmp')).toBe(false);
  });

  it('gateway unit: restartable, own user and data dir, no device access', () => {
    const s = section('portier-gateway.service', 'Service');
    const one = (k: string) => s.get(k)?.at(-1);
    expect(one('Restart')).toBe('on-failure');
    expect(one('User')).toBe('portier-gateway');
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('ReadWritePaths')).toBe('/var/lib/portier-gateway');
    expect(one('PrivateDevices')).toBe('yes');
  });

  const haveAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;
  if (!haveAnalyze) console.log('SKIPPED: systemd-analyze verify: systemd-analyze not installed (apt-get install systemd)');
  /** Runs verify on copies in a temp folder; files under <unit>.d/ are drop-ins, which verify loads from beside the unit. */
  function verify(files: Record<string, string>): string {
    const dir = mkdtempSync(join(tmpdir(), 'ptr-units-'));
    try {
      for (const [rel, text] of Object.entries(files)) {
        mkdirSync(join(dir, dirname(rel)), { recursive: true });
        // verify checks that ExecStart's binary exists; point it at this machine's node
        writeFileSync(join(dir, rel), text.replaceAll('/usr/bin/node', process.execPath));
      }
      const paths = Object.keys(files).filter((f) => !f.includes('.d/')).map((f) => join(dir, f));
      const r = spawnSync('systemd-analyze', ['verify', '--man=no', ...paths], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      // verify prints unknown keys and unparsable values but still exits 0, so its output must be empty
      return r.stderr.trim() + r.stdout.trim();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const text = (f: string) => readFileSync(join(unitDir, f), 'utf8');

  it.skipIf(!haveAnalyze)('systemd-analyze verify reports nothing', () => {
    expect(verify(Object.fromEntries(units.map((u) => [u, text(u)])))).toBe('');
  });

  it.skipIf(!haveAnalyze)('systemd-analyze verify: the device unit with the Jetson drop-in', () => {
    const dropIn = 'portier-device.service.d/jetson.conf';
    expect(verify({ 'portier-device.service': text('portier-device.service'), [dropIn]: text(dropIn) })).toBe('');
    // the drop-in really is read: a bad key in it is reported
    expect(verify({ 'portier-device.service': text('portier-device.service'), [dropIn]: text(dropIn) + 'NoSuchKey=1\n' })).toMatch(/jetson\.conf.*NoSuchKey/);
  });

  it.skipIf(!haveAnalyze)('systemd-analyze verify: the commented LoadCredentialEncrypted= example, uncommented', () => {
    const unit = text('portier-device.service');
    expect(unit).toMatch(/^#LoadCredentialEncrypted=portier-template-key:\/etc\/credstore\.encrypted\/portier-template-key\.cred$/m);
    expect(verify({ 'portier-device.service': unit.replace(/^#LoadCredentialEncrypted=/m, 'LoadCredentialEncrypted=') })).toBe('');
  });
});
