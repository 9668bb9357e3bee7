import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SystemdNotifyCommandTransport } from '../../../device/systemd/transport.ts';
import { createSystemdNotifier } from '../../../device/systemd/notifier.ts';
import { systemdConfigSchema } from '../../../device/systemd/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'ptr-sd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

describe('systemd-notify command transport (fake command)', () => {
  it('passes each field as an argument and NOTIFY_SOCKET in the environment', async () => {
    const out = join(dir, 'args.txt');
    const cmd = script('fake-notify', `printf '%s|' "$NOTIFY_SOCKET" "$@" >> ${out}; echo >> ${out}`);
    const t = new SystemdNotifyCommandTransport({ command: cmd, socket: '/run/x.sock', timeoutMs: 5000 });
    await t.send(['READY=1', 'STATUS=up and running']);
    await t.send(['WATCHDOG=1']);
    expect(readFileSync(out, 'utf8')).toBe('/run/x.sock|READY=1|STATUS=up and running|\n/run/x.sock|WATCHDOG=1|\n');
  });

  it('rejects with stderr on a non-zero exit, on a missing command, and on a hang', async () => {
    const failing = script('fail-notify', 'echo "No such socket" >&2; exit 1');
    await expect(new SystemdNotifyCommandTransport({ command: failing, socket: '/s', timeoutMs: 5000 }).send(['READY=1'])).rejects.toThrow(
      /failed \(exit 1\): No such socket/,
    );
    await expect(
      new SystemdNotifyCommandTransport({ command: join(dir, 'missing'), socket: '/s', timeoutMs: 5000 }).send(['READY=1']),
    ).rejects.toThrow(/not found/);
    const hang = script('hang-notify', 'exec sleep 30');
    await expect(new SystemdNotifyCommandTransport({ command: hang, socket: '/s', timeoutMs: 200 }).send(['READY=1'])).rejects.toThrow(
      /did not finish within 200 ms/,
    );
  });
});

// End to end with the real systemd-notify against a python3 stand-in for systemd's socket.
const haveTools =
  spawnSync('systemd-notify', ['--version']).status === 0 && spawnSync('python3', ['--version']).status === 0;
if (!haveTools) console.warn('SKIPPED: real systemd-notify test: systemd-notify or python3 not installed');

describe.skipIf(!haveTools)('real systemd-notify to a unix datagram listener', () => {
  const socketPath = join(dir, 'notify.sock');
  const messages: string[] = [];
  let listener: ChildProcess;

  beforeAll(async () => {
    listener = spawn('python3', [fileURLToPath(new URL('./notify-listener.py', import.meta.url)), socketPath], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: listener.stdout! });
    await new Promise<void>((resolve, reject) => {
      listener.once('exit', (code) => reject(new Error(`listener exited ${code}`)));
      lines.on('line', (line) => {
        const m = JSON.parse(line) as { listening?: string; message?: string };
        if (m.listening) resolve();
        if (m.message !== undefined) messages.push(m.message);
      });
    });
  });
  afterAll(() => {
    listener?.kill();
  });

  async function waitFor(pred: () => boolean, ms = 3000): Promise<void> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out; got ${JSON.stringify(messages)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('READY=1, WATCHDOG=1 (rate-limited), STATUS and STOPPING=1 arrive', async () => {
    let clock = 0;
    const notifier = createSystemdNotifier({
      config: systemdConfigSchema.parse({}),
      env: { ...process.env, NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '2000000', WATCHDOG_PID: String(process.pid) },
      now: () => clock,
    });
    expect(notifier.enabled).toBe(true);
    expect(notifier.watchdogIntervalMs).toBe(1000);
    await notifier.ready('serving');
    expect(notifier.watchdog()).toBe(true);
    await notifier.flush();
    clock += 500;
    expect(notifier.watchdog()).toBe(false);
    clock += 600;
    expect(notifier.watchdog()).toBe(true);
    await notifier.flush();
    await notifier.stopping();
    await waitFor(() => messages.includes('STOPPING=1'));
    // systemd-notify follows each message with BARRIER=1 (it waits until the fd it passes is closed)
    expect(messages.filter((m) => m !== 'BARRIER=1')).toEqual(['READY=1\nSTATUS=serving', 'WATCHDOG=1', 'WATCHDOG=1', 'STOPPING=1']);
  });
});
