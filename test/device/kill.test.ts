/**
 * SIGKILL the real daemon (child process) in the middle of a burst of decisions: after restart
 * every event the daemon reported as recorded is still in the outbox, and none appears twice.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../device/store/store.ts';
import { fixture, hasModels, repoRoot, skipReason } from '../helpers.ts';
import { tempDir, testKeyEnv } from './harness.ts';

const t = tempDir();
afterAll(t.cleanup);

function writeConfig(dir: string): string {
  mkdirSync(join(dir, 'stranger'), { recursive: true });
  copyFileSync(fixture('astronaut_eileen_collins.png'), join(dir, 'stranger/1.png'));
  // A stranger steps up for 0.3 s, leaves for 0.3 s, again and again: one decision per approach.
  writeFileSync(join(dir, 'scenario.json'), JSON.stringify([{ clip: 'stranger', seconds: 0.3 }, { idle: 0.3 }]));
  const config = {
    vision: { modelDir: join(repoRoot, 'models') },
    store: { dir, templateKey: { type: 'env' } },
    camera: { type: 'simulated', fps: 20, simulated: { source: join(dir, 'scenario.json'), loop: true } },
    recognition: { votesNeeded: 1, voteWindow: 1, minLiveFrames: 1, trackTimeoutMs: 150 },
    gpio: { type: 'simulated' },
    http: { enabled: false },
    systemd: { type: 'none' },
    gallery: { maxTemplates: 1000, kernel: { threads: 1 } },
  };
  const file = join(dir, 'device.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
}

/** Run the daemon until `count` decisions were reported, then SIGKILL it. Returns the reported event ids. */
function runUntil(configFile: string, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'device/main.ts'), '--config', configFile], {
      cwd: repoRoot,
      env: { ...process.env, ...testKeyEnv, PORTIER_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const ids: string[] = [];
    let buf = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`only ${ids.length} decisions in time; stderr: ${stderr.slice(-2000)}`));
    }, 90_000);
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /\[event ([0-9a-f-]{36})\]/.exec(line);
        if (m) ids.push(m[1]);
        if (ids.length >= count && !child.killed) {
          // Mid-burst: the loop is already working on the next frames.
          child.kill('SIGKILL');
        }
      }
    });
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') resolve(ids);
      else reject(new Error(`daemon exited on its own (${_code}); stderr: ${stderr.slice(-2000)}`));
    });
  });
}

describe.skipIf(skipReason(hasModels, 'models/ missing'))('daemon killed mid-burst', () => {
  it('keeps every reported event exactly once across SIGKILL and restart', async () => {
    const cfg = writeConfig(t.dir);
    const first = await runUntil(cfg, 4);
    const second = await runUntil(cfg, 2);
    const store = await openStore({ dir: t.dir, templateKey: { type: 'env', file: 'template.key', env: 'PORTIER_TEMPLATE_KEY' } }, { env: { ...process.env, ...testKeyEnv } });
    const events = store.outbox.peek(100_000);
    store.close();
    const decisionIds = events.filter((e) => e.kind === 'decision').map((e) => e.id);
    const allIds = events.map((e) => e.id);
    for (const id of [...first, ...second]) expect(decisionIds).toContain(id);
    expect(new Set(allIds).size).toBe(allIds.length);
    expect(first.length).toBeGreaterThanOrEqual(4);
    // Every decision body is intact JSON with its reason.
    for (const e of events.filter((x) => x.kind === 'decision')) expect((e.body as { reason: string }).reason).toBe('unknown');
  }, 200_000);
});
