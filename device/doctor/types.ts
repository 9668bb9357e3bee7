/**
 * What `portier doctor` works with: every file tree, command and probe it touches comes through
 * DoctorEnv, so the checks run against fake /proc, /sys and /dev trees in tests, and against the
 * board in production (defaultDoctorEnv).
 */
import { spawnSync } from 'node:child_process';
import { statfsSync } from 'node:fs';
import { connect } from 'node:net';
import { findExecutable } from '../camera/which.ts';
import { createCamera } from '../camera/create.ts';
import type { CameraConfig } from '../camera/config.ts';
import type { Camera } from '../camera/types.ts';
import { MODEL_SHA256 } from '../../core/models/manifest.ts';

export type CheckStatus = 'ok' | 'warn' | 'fail';

/** One line of the report: what was found, and for a problem, what to do about it. */
export interface Check {
  area: string;
  status: CheckStatus;
  message: string;
  fix?: string;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface DoctorEnv {
  /** Device-tree model (default: gpio.boardModelFile). */
  modelFile: string;
  /** sysfs GPIO class folder (gpiochipN/label, base, ngpio; export). */
  sysfsGpio: string;
  /** Where device nodes live (gpiochip*, video*, tpmrm0). */
  devDir: string;
  /** Folders systemd searches for LoadCredentialEncrypted= / LoadCredential= by name. */
  credstoreDirs: string[];
  env: NodeJS.ProcessEnv;
  /** Effective uid of the checks (undefined where there are none). */
  uid: number | undefined;
  /** Runs a command; null when it is not installed. */
  run(cmd: string, args: string[], timeoutMs?: number): RunResult | null;
  which(name: string): string | undefined;
  /** onnxruntime's execution providers in this build (listSupportedBackends). */
  providers(): Promise<{ name: string; bundled: boolean }[]>;
  /** GET a local URL: status and parsed JSON body, or null when nothing answers. */
  httpGet(url: string, timeoutMs: number): Promise<{ status: number; body: unknown } | null>;
  /** TCP connect; null when it connected, else the error. */
  tcpConnect(host: string, port: number, timeoutMs: number): Promise<string | null>;
  createCamera(cfg: CameraConfig): Camera;
  captureTimeoutMs: number;
  /** sha256 each fp32 model must have. */
  modelSha256: Record<string, string>;
  freeSpace(dir: string): { free: number; total: number } | null;
  now(): number;
}

export function defaultDoctorEnv(over: Partial<DoctorEnv> = {}): DoctorEnv {
  const env = over.env ?? process.env;
  return {
    modelFile: '/proc/device-tree/model',
    sysfsGpio: '/sys/class/gpio',
    devDir: '/dev',
    credstoreDirs: ['/etc/credstore.encrypted', '/etc/credstore', '/run/credstore.encrypted', '/run/credstore'],
    env,
    uid: process.geteuid?.(),
    run: (cmd, args, timeoutMs = 10_000) => {
      const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, env, stdio: ['ignore', 'pipe', 'pipe'] });
      if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return null;
      return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? r.error.message : '') };
    },
    which: (name) => findExecutable(name, env.PATH ?? ''),
    providers: async () => {
      const ort = (await import('onnxruntime-node')) as { listSupportedBackends?: () => { name: string; bundled: boolean }[] };
      return ort.listSupportedBackends?.() ?? [{ name: 'cpu', bundled: true }];
    },
    httpGet: async (url, timeoutMs) => {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
        const text = await res.text();
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        return { status: res.status, body };
      } catch {
        return null;
      }
    },
    tcpConnect: (host, port, timeoutMs) =>
      new Promise((resolve) => {
        const s = connect({ host, port });
        const done = (err: string | null) => {
          s.destroy();
          resolve(err);
        };
        s.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs} ms`));
        s.once('connect', () => done(null));
        s.once('error', (e) => done(e.message));
      }),
    createCamera: (cfg) => createCamera(cfg),
    captureTimeoutMs: 15_000,
    modelSha256: { ...MODEL_SHA256 },
    freeSpace: (dir) => {
      try {
        const s = statfsSync(dir);
        return { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
      } catch {
        return null;
      }
    },
    now: Date.now,
    ...over,
  };
}

export const ok = (area: string, message: string): Check => ({ area, status: 'ok', message });
export const warn = (area: string, message: string, fix?: string): Check => ({ area, status: 'warn', message, fix });
export const fail = (area: string, message: string, fix?: string): Check => ({ area, status: 'fail', message, fix });
