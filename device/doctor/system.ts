/**
 * Doctor: the running daemon (if any), the models and their sha256, onnxruntime's execution
 * providers, the MQTT join state and the clock.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { DeviceConfig } from '../config.ts';
import type { SyncSettings } from '../store/settings.ts';
import { fail, ok, warn, type Check, type DoctorEnv } from './types.ts';

export interface DaemonProbe {
  running: boolean;
  health?: { status?: string; reason?: string; warnings?: string[] };
  state?: Record<string, unknown>;
}

export async function probeDaemon(env: DoctorEnv, cfg: DeviceConfig): Promise<{ probe: DaemonProbe; check: Check }> {
  if (!cfg.http.enabled || cfg.http.port === 0) return { probe: { running: false }, check: ok('daemon', 'http status endpoint off: cannot tell whether the daemon runs') };
  const host = ['0.0.0.0', '::'].includes(cfg.http.host) ? '127.0.0.1' : cfg.http.host;
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${cfg.http.port}`;
  const health = await env.httpGet(`${base}/health`, 2000);
  if (!health) return { probe: { running: false }, check: ok('daemon', `not running (nothing answers at ${base}/health)`) };
  const state = await env.httpGet(`${base}/state`, 2000);
  const h = (health.body ?? {}) as NonNullable<DaemonProbe['health']>;
  const probe: DaemonProbe = { running: true, health: h, state: (state?.body ?? undefined) as Record<string, unknown> | undefined };
  const what = `running: /health ${h.status ?? health.status}${h.reason ? ` (${h.reason})` : ''}${h.warnings?.length ? `, warnings ${h.warnings.join(', ')}` : ''}`;
  if (h.status === 'ok' && !h.warnings?.length) return { probe, check: ok('daemon', what) };
  return { probe, check: warn('daemon', what, 'journalctl -u portier-device -n 100 says why') };
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Every model the engine loads, fp32 against the pinned sha256, int8 against its sidecar. */
export function checkModels(env: DoctorEnv, cfg: DeviceConfig): Check[] {
  const dir = cfg.vision.modelDir;
  const stages = { detect: 'fr_detect', landmark: 'fr_landmark', feature: 'fr_feature', liveness: 'fr_liveness', eye: 'fr_eye' } as const;
  const out: Check[] = [];
  for (const [stage, name] of Object.entries(stages)) {
    const area = `model ${stage}`;
    const fp32 = join(dir, `${name}.onnx`);
    const want = env.modelSha256[name];
    if (!existsSync(fp32)) {
      out.push(fail(area, `${fp32} missing`, 'npm run fetch-models (npm install runs it)'));
      continue;
    }
    const got = sha256(fp32);
    if (got !== want) {
      out.push(fail(area, `${fp32} sha256 ${got.slice(0, 12)}… is not the pinned ${want?.slice(0, 12)}…: refused at load`, `delete it and run npm run fetch-models`));
      continue;
    }
    const precision = stage === 'eye' ? 'fp32' : (cfg.vision.precision as Record<string, string>)[stage];
    if (precision !== 'int8') {
      out.push(ok(area, `${name}.onnx fp32, sha256 ok`));
      continue;
    }
    const int8 = join(dir, `${name}.int8.onnx`);
    const side = join(dir, `${name}.int8.json`);
    let problem = '';
    if (!existsSync(int8) || !existsSync(side)) problem = `${existsSync(int8) ? side : int8} missing`;
    else {
      try {
        const m = JSON.parse(readFileSync(side, 'utf8')) as { source_sha256?: string; sha256?: string };
        if (m.source_sha256 !== want) problem = `${int8} was made from other fp32 weights`;
        else if (sha256(int8) !== m.sha256) problem = `${int8} does not match the sha256 in ${side}`;
      } catch (err) {
        problem = `${side}: ${(err as Error).message}`;
      }
    }
    out.push(problem ? warn(area, `${problem}: the daemon falls back to fp32 (slower)`, 'npm run quantize') : ok(area, `${name}.int8.onnx int8, sha256 ok`));
  }
  return out;
}

export async function checkProviders(env: DoctorEnv, cfg: DeviceConfig): Promise<Check> {
  let list: { name: string; bundled: boolean }[];
  try {
    list = await env.providers();
  } catch (err) {
    return fail('onnxruntime', `cannot load onnxruntime-node: ${(err as Error).message}`, 'npm ci (the binary for this platform comes with the package)');
  }
  const found = list.map((p) => `${p.name}${p.bundled ? '' : ' (needs its libraries)'}`).join(', ');
  const wanted = cfg.vision.executionProviders as string[];
  const missing = wanted.filter((p) => p !== 'cpu' && !list.some((b) => b.name === p));
  const unbundled = wanted.filter((p) => list.some((b) => b.name === p && !b.bundled));
  const what = `available: ${found}; configured: ${wanted.join(', ')}`;
  if (missing.length) return warn('onnxruntime', `${what}; ${missing.join(', ')} not in this build: the models run on the next one (cpu)`, 'see README, Accelerators (Jetson: scripts/build-onnxruntime-jetson.sh)');
  if (unbundled.length) return warn('onnxruntime', `${what}; ${unbundled.join(', ')} load only where their runtime libraries (CUDA, TensorRT) are installed`, 'the daemon logs the provider each model runs on at start; /state shows it');
  return ok('onnxruntime', what);
}

/** Joined or not, confirmed by the gateway, and whether the broker answers. */
export async function checkSync(env: DoctorEnv, cfg: DeviceConfig, daemon: DaemonProbe): Promise<{ joined: boolean; check: Check }> {
  const file = isAbsolute(cfg.store.settingsFile) ? cfg.store.settingsFile : join(cfg.store.dir, cfg.store.settingsFile);
  let sync: SyncSettings | undefined;
  try {
    sync = (JSON.parse(readFileSync(file, 'utf8')) as { sync?: SyncSettings }).sync;
  } catch {
    // no settings yet: not joined
  }
  if (!cfg.sync.enabled) return { joined: !!sync, check: ok('mqtt', 'sync.enabled is false: the device runs standalone') };
  if (!sync) return { joined: false, check: warn('mqtt', 'not joined to a gateway: the device runs standalone', 'on the gateway `npm run portier -- provision <id>`, here `npm run portier -- join <bundle>`') };
  const url = cfg.sync.brokerUrl ?? sync.broker.url;
  const what = `joined as ${sync.deviceId} to ${url} on ${sync.joinedAt}${sync.confirmedAt ? `, confirmed by the gateway ${sync.confirmedAt}` : ', not yet confirmed by the gateway'}`;
  const live = (daemon.state as { sync?: { connected?: boolean } } | undefined)?.sync;
  if (daemon.running && live) {
    return live.connected ? { joined: true, check: ok('mqtt', `${what}; the daemon is connected`) } : { joined: true, check: warn('mqtt', `${what}; the daemon is not connected`, 'check the broker address, the network and the gateway logs') };
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { joined: true, check: fail('mqtt', `${what}; broker URL ${url} is not a URL`, 'set sync.brokerUrl, or join again') };
  }
  const port = Number(u.port) || (u.protocol === 'mqtts:' ? 8883 : 1883);
  const err = await env.tcpConnect(u.hostname, port, 3000);
  if (err) return { joined: true, check: fail('mqtt', `${what}; ${u.hostname}:${port} unreachable (${err})`, 'check the gateway runs and the network/firewall lets this device reach the broker port') };
  return { joined: true, check: sync.confirmedAt ? ok('mqtt', `${what}; broker reachable`) : warn('mqtt', `${what}; broker reachable`, 'start the daemon: its first hello completes the join') };
}

/** Signed messages expire and schedules are wall-clock times: the clock must be right. */
export function checkClock(env: DoctorEnv): Check {
  const now = new Date(env.now());
  if (now.getUTCFullYear() < 2025) return fail('clock', `the clock says ${now.toISOString()}`, 'set the time and enable NTP: sudo timedatectl set-ntp true (a board without RTC needs the network at boot)');
  if (!env.which('timedatectl')) return warn('clock', `${now.toISOString()}; timedatectl not found: cannot tell whether it is synchronised`, 'run chrony or systemd-timesyncd');
  const r = env.run('timedatectl', ['show', '--property=NTPSynchronized', '--property=NTP'], 5000);
  const kv = Object.fromEntries((r?.stdout ?? '').split('\n').map((l) => l.split('=', 2) as [string, string]));
  if (!r || r.status !== 0 || kv.NTPSynchronized === undefined) return warn('clock', `${now.toISOString()}; timedatectl could not tell (${(r?.stderr ?? '').trim().split('\n')[0] || 'no answer'})`, 'run chrony or systemd-timesyncd');
  if (kv.NTPSynchronized === 'yes') return ok('clock', `${now.toISOString()}, synchronised (NTP)`);
  return warn('clock', `${now.toISOString()}, not synchronised${kv.NTP === 'no' ? ', NTP off' : ''}`, 'sudo timedatectl set-ntp true; check that the NTP server is reachable');
}

export function checkUser(env: DoctorEnv): Check | undefined {
  if (env.uid !== 0) return undefined;
  return warn('user', 'running as root: file and device access below are root\'s, not the daemon\'s', 'run as the daemon user: sudo -u portier npm run portier -- doctor --config /etc/portier/device.json');
}
