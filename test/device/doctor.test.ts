import { EventEmitter } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Camera, Frame } from '../../device/camera/types.ts';
import { runDeviceCli } from '../../device/cli.ts';
import { deviceConfigSchema, type DeviceConfig, type DeviceConfigInput } from '../../device/config.ts';
import { defaultDoctorEnv, formatReport, runDoctor, type Check, type DoctorEnv } from '../../device/doctor.ts';
import { generateKeyFile } from '../../device/store/crypto.ts';
import { openStore } from '../../device/store/store.ts';
import { fakeGpiod, type FakeGpiod } from './gpio/fake-gpiod.ts';

let root: string;
let gpiod: FakeGpiod;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'portier-doctor-'));
  gpiod = fakeGpiod();
});
afterEach(() => {
  gpiod.cleanup();
  rmSync(root, { recursive: true, force: true });
});

const put = (rel: string, content: string | Buffer, mode = 0o644) => {
  const f = join(root, rel);
  mkdirSync(join(f, '..'), { recursive: true });
  writeFileSync(f, content);
  chmodSync(f, mode);
  return f;
};
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A Raspberry Pi 5 as /proc, /sys and /dev show it, with bookworm's sysfs base 571 for the header. */
function fakePi5(): void {
  put('proc/device-tree/model', 'Raspberry Pi 5 Model B Rev 1.0\0');
  for (const [n, label, base, ngpio] of [
    ['gpiochip512', 'gpio-brcmstb@107d508500', 512, 32],
    ['gpiochip571', 'pinctrl-rp1', 571, 54],
  ] as const) {
    put(`sys/class/gpio/${n}/label`, `${label}\n`);
    put(`sys/class/gpio/${n}/base`, `${base}\n`);
    put(`sys/class/gpio/${n}/ngpio`, `${ngpio}\n`);
  }
  put('sys/class/gpio/export', '', 0o200);
  for (const n of ['gpiochip0', 'gpiochip4', 'video0', 'video19', 'tpmrm0']) put(`dev/${n}`, '', 0o660);
}

/** Model files (small stand-ins) with the sha256 the env pins for them, and int8 sidecars. */
function fakeModels(): Record<string, string> {
  const pinned: Record<string, string> = {};
  for (const name of ['fr_detect', 'fr_landmark', 'fr_feature', 'fr_liveness', 'fr_eye']) {
    const bytes = Buffer.from(`${name} fp32 weights`);
    put(`models/${name}.onnx`, bytes);
    pinned[name] = sha(bytes);
    const int8 = Buffer.from(`${name} int8 weights`);
    put(`models/${name}.int8.onnx`, int8);
    put(`models/${name}.int8.json`, JSON.stringify({ source_sha256: pinned[name], sha256: sha(int8) }));
  }
  return pinned;
}

/** A camera whose first frame comes at once, or never. */
function fakeCamera(delivers: boolean): Camera & { started: boolean } {
  const cam = Object.assign(new EventEmitter(), {
    kind: 'fake',
    status: 'idle',
    stats: { produced: 0, delivered: 0, dropped: 0, restarts: 0, garbageBytes: 0, corruptFrames: 0 },
    started: false,
    start: async () => void (cam.started = true),
    stop: async () => {},
    nextFrame: (opts?: { signal?: AbortSignal }): Promise<Frame> =>
      delivers
        ? Promise.resolve({ data: Buffer.alloc(1234), format: 'rgb24', width: 640, height: 480, ts: 0, seq: 1 })
        : new Promise((_, reject) => opts?.signal?.addEventListener('abort', () => reject(new Error('aborted')))),
    frames: () => {
      throw new Error('unused');
    },
  });
  return cam as unknown as Camera & { started: boolean };
}

const listCameras = 'Available cameras\n-----------------\n0 : imx708 [4608x2592 10-bit RGGB] (/base/axi/pcie@120000/rp1/i2c@88000/imx708@1a)\n    Modes: ...\n';

function env(over: Partial<DoctorEnv> = {}): DoctorEnv {
  const pinned = fakeModels();
  const bins = new Set(['rpicam-hello', 'rpicam-vid', 'timedatectl']);
  return defaultDoctorEnv({
    modelFile: join(root, 'proc/device-tree/model'),
    sysfsGpio: join(root, 'sys/class/gpio'),
    devDir: join(root, 'dev'),
    credstoreDirs: [join(root, 'etc/credstore.encrypted')],
    env: {},
    which: (n) => (bins.has(n) ? `/usr/bin/${n}` : undefined),
    run: (cmd) => {
      if (cmd === 'rpicam-hello') return { status: 0, stdout: listCameras, stderr: '' };
      if (cmd === 'timedatectl') return { status: 0, stdout: 'NTPSynchronized=yes\nNTP=yes\n', stderr: '' };
      return null;
    },
    providers: async () => [{ name: 'cpu', bundled: true }],
    httpGet: async () => null,
    tcpConnect: async () => null,
    createCamera: () => fakeCamera(true),
    captureTimeoutMs: 100,
    modelSha256: pinned,
    freeSpace: () => ({ free: 8 * 1024 ** 3, total: 32 * 1024 ** 3 }),
    now: () => Date.parse('2026-06-01T12:00:00Z'),
    ...over,
  });
}

function config(over: DeviceConfigInput = {}): DeviceConfig {
  return deviceConfigSchema.parse({
    gpio: { type: 'gpiod', gpiod: { bin: gpiod.bin }, boardModelFile: join(root, 'proc/device-tree/model') },
    camera: { type: 'libcamera' },
    store: { dir: join(root, 'var/lib/portier') },
    vision: { modelDir: join(root, 'models') },
    ...over,
  });
}

/** A joined, confirmed device with its key, secrets and a healthy database. */
async function provisionedStore(cfg: DeviceConfig): Promise<void> {
  const dir = cfg.store.dir;
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  generateKeyFile(join(dir, 'template.key'));
  const store = await openStore(cfg.store);
  store.outbox.append({ kind: 'door', id: 'e1', body: {} });
  store.close();
  writeFileSync(join(dir, 'device-keys.pem'), 'keys', { mode: 0o600 });
  writeFileSync(join(dir, 'broker.secret'), 'secret', { mode: 0o600 });
  const sync = { deviceId: 'door-1', broker: { url: 'mqtt://gateway.lan:1883', username: 'door-1' }, joinedAt: '2026-05-01T00:00:00Z', confirmedAt: '2026-05-01T00:01:00Z' };
  writeFileSync(join(dir, 'settings.json'), JSON.stringify({ syncCursor: null, values: {}, sync }), { mode: 0o600 });
}

const byArea = (checks: Check[], area: string) => checks.find((c) => c.area === area)!;

describe('portier doctor', () => {
  it('on a healthy Raspberry Pi 5: every check OK with what it found, exit code 0', async () => {
    fakePi5();
    const cfg = config();
    await provisionedStore(cfg);
    const report = await runDoctor(cfg, env());
    const problems = report.checks.filter((c) => c.status !== 'ok' && c.area !== 'user');
    expect(problems).toEqual([]);
    expect(report.failed).toBe(false);
    const c = (a: string) => byArea(report.checks, a).message;
    expect(c('board')).toBe('Raspberry Pi 5 Model B Rev 1.0 (raspberry-pi)');
    expect(c('gpio chips')).toContain('pinctrl-rp1 (base 571, 54 lines)');
    expect(c('gpio chips')).toContain('gpiochip0 gpiochip4');
    expect(c('gpio driver')).toContain('gpiod (libgpiod v1.6.3), input bias pull-up: relay 17 -> GPIO17 (gpiochip0:17), contact 27 -> GPIO27 (gpiochip0:27), exit button 22 -> GPIO22 (gpiochip0:22)');
    // doctor only looked lines up: nothing was set, read or monitored
    expect(gpiod.calls().map((a) => a[0]).filter((t) => t !== 'gpiofind' && t !== 'gpioset')).toEqual([]);
    expect(gpiod.calls('gpioset')).toEqual([['--version']]);
    expect(c('cameras')).toContain('rpicam-hello: 0: imx708 [4608x2592 10-bit RGGB]');
    expect(c('cameras')).toContain('video0 video19');
    expect(c('camera capture')).toMatch(/^one rgb24 frame 640x480, 1234 bytes/);
    expect(c('template key')).toMatch(/^file .*template\.key \(mode 600, uid \d+\)/);
    expect(c('sync secrets')).toBe('device-keys.pem 600, broker.secret 600');
    expect(c('mqtt')).toContain('joined as door-1 to mqtt://gateway.lan:1883');
    expect(c('database')).toMatch(/0 people, 0 templates, 1 audit events waiting; quick_check ok/);
    expect(c('model feature')).toBe('fr_feature.int8.onnx int8, sha256 ok');
    expect(c('clock')).toContain('synchronised (NTP)');
    const text = formatReport(report);
    expect(text).toMatch(/^OK {3}board +Raspberry Pi 5/m);
    expect(text).toMatch(/\d+ ok, \d warnings, 0 failed$/);
  });

  it('names each problem with its fix and fails: unset gpio.type on a board, exposed key, swapped model, no camera, unreachable broker, clock never set', async () => {
    fakePi5();
    const cfg = config({ gpio: { boardModelFile: join(root, 'proc/device-tree/model') }, camera: { type: 'libcamera' } });
    await provisionedStore(cfg);
    const e = env({
      run: (cmd) => (cmd === 'rpicam-hello' ? { status: 0, stdout: '', stderr: 'No cameras available!\n' } : { status: 0, stdout: 'NTPSynchronized=no\nNTP=no\n', stderr: '' }),
      createCamera: () => fakeCamera(false),
      tcpConnect: async () => 'connect ECONNREFUSED',
      now: () => Date.parse('2020-01-01T00:00:00Z'),
    });
    chmodSync(join(cfg.store.dir, 'template.key'), 0o644);
    put('models/fr_feature.onnx', 'other weights');
    rmSync(join(root, 'models/fr_detect.int8.onnx'));
    const report = await runDoctor(cfg, e);
    expect(report.failed).toBe(true);
    const c = (a: string) => byArea(report.checks, a);
    expect(c('gpio driver')).toMatchObject({ status: 'fail', message: expect.stringMatching(/gpio.type is not set on a Raspberry Pi 5/), fix: expect.stringContaining('"type": "gpiod"') });
    expect(c('template key')).toMatchObject({ status: 'fail', message: expect.stringContaining('chmod 600') });
    expect(c('model feature')).toMatchObject({ status: 'fail', fix: expect.stringContaining('fetch-models') });
    expect(c('model detect')).toMatchObject({ status: 'warn', message: expect.stringContaining('falls back to fp32'), fix: 'npm run quantize' });
    expect(c('cameras')).toMatchObject({ status: 'fail', fix: expect.stringContaining('ribbon cable') });
    expect(c('camera capture')).toMatchObject({ status: 'fail', message: expect.stringContaining('no frame within 100 ms') });
    expect(c('mqtt')).toMatchObject({ status: 'fail', message: expect.stringContaining('gateway.lan:1883 unreachable (connect ECONNREFUSED)') });
    expect(c('clock')).toMatchObject({ status: 'fail', fix: expect.stringContaining('timedatectl set-ntp true') });
    expect(formatReport(report)).toMatch(/^FAIL gpio driver .*\n {5,}fix: set "gpio"/m);
  });

  it('refuses a key file and secrets owned by another user than the daemon', async () => {
    fakePi5();
    const cfg = config();
    await provisionedStore(cfg);
    const report = await runDoctor(cfg, env({ uid: 4242 }));
    expect(byArea(report.checks, 'template key')).toMatchObject({ status: 'fail', message: expect.stringMatching(/owned by uid \d+, not by the user running Portier .*uid 4242/) });
    expect(byArea(report.checks, 'sync secrets').status).toBe('fail');
    expect(byArea(report.checks, 'store dir').status).toBe('warn');
  });

  it('does not open a database another user owns (a read-only open as root leaves -wal/-shm the daemon cannot write)', async () => {
    fakePi5();
    const cfg = config();
    await provisionedStore(cfg);
    const store = await openStore(cfg.store);
    store.outbox.append({ kind: 'e', body: {} });
    store.close();
    const file = join(cfg.store.dir, 'portier.db');
    const before = readdirSync(cfg.store.dir).filter((n) => n.startsWith('portier.db'));
    expect(before).toEqual(['portier.db']);
    const db = byArea((await runDoctor(cfg, env({ uid: 4242 }))).checks, 'database');
    expect(db).toMatchObject({ status: 'warn', message: expect.stringMatching(/belongs to uid \d+, not to this user \(uid 4242\): not opened/), fix: expect.stringContaining('sudo -u portier') });
    expect(readdirSync(cfg.store.dir).filter((n) => n.startsWith('portier.db'))).toEqual(before);
    expect(existsSync(`${file}-wal`) || existsSync(`${file}-shm`)).toBe(false);
    // Its owner gets the full check.
    expect(byArea((await runDoctor(cfg, env())).checks, 'database')).toMatchObject({ status: 'ok', message: expect.stringContaining('quick_check ok') });
  });

  it('a damaged database fails its quick_check', async () => {
    fakePi5();
    const cfg = config();
    await provisionedStore(cfg);
    const store = await openStore(cfg.store);
    store.db.transaction(() => {
      for (let i = 0; i < 300; i++) store.outbox.append({ kind: 'e', id: `ev-${i}`, body: { pad: 'z'.repeat(300) } });
    })();
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    store.close();
    const file = join(cfg.store.dir, 'portier.db');
    const bytes = readFileSync(file);
    bytes.fill(0x77, 4096 * 8, 4096 * 11);
    writeFileSync(file, bytes);
    const db = byArea((await runDoctor(cfg, env())).checks, 'database');
    expect(db.status).toBe('fail');
    expect(db.fix).toContain('salvage');
  });

  it('with the daemon running: no test capture (it holds the camera), its camera and MQTT state reported', async () => {
    fakePi5();
    const cfg = config();
    await provisionedStore(cfg);
    const camera = fakeCamera(true);
    const report = await runDoctor(
      cfg,
      env({
        createCamera: () => camera,
        httpGet: async (url) =>
          url.endsWith('/health')
            ? { status: 200, body: { status: 'ok', lastTickAgeMs: 10 } }
            : { status: 200, body: { camera: { status: 'up', lastFrameAt: '2026-06-01T11:59:59Z' }, sync: { connected: true } } },
      }),
    );
    expect(camera.started).toBe(false);
    expect(byArea(report.checks, 'daemon')).toMatchObject({ status: 'ok', message: 'running: /health ok' });
    expect(byArea(report.checks, 'camera capture').message).toContain('the running daemon holds the camera');
    expect(byArea(report.checks, 'mqtt').message).toContain('the daemon is connected');
  });

  it('key source credential: from $CREDENTIALS_DIRECTORY, else the encrypted credential in the credstore, else the systemd-creds command', async () => {
    fakePi5();
    const cfg = config({ store: { dir: join(root, 'var/lib/portier'), templateKey: { type: 'credential' } } });
    mkdirSync(cfg.store.dir, { recursive: true, mode: 0o750 });
    const key = (e: Partial<DoctorEnv>) => runDoctor(cfg, env(e)).then((r) => byArea(r.checks, 'template key'));

    expect(await key({})).toMatchObject({ status: 'fail', fix: expect.stringContaining('systemd-creds encrypt --name=portier-template-key --with-key=tpm2') });

    put('etc/credstore.encrypted/portier-template-key.cred', 'ciphertext', 0o600);
    expect(await key({})).toMatchObject({ status: 'ok', message: expect.stringMatching(/portier-template-key\.cred \(mode 600.*TPM2 present/) });
    rmSync(join(root, 'dev/tpmrm0'));
    expect((await key({})).message).toContain('no TPM2 device');

    // Under systemd: root-owned 0440 with an ACL is how systemd delivers it; no mode check there.
    put('run/credentials/portier-device.service/portier-template-key', randomBytes(32).toString('base64'), 0o440);
    expect(await key({ env: { CREDENTIALS_DIRECTORY: join(root, 'run/credentials/portier-device.service') } })).toMatchObject({ status: 'ok', message: expect.stringContaining('from $CREDENTIALS_DIRECTORY') });
  });

  it('`portier doctor` prints the report and exits 1 on a FAIL', async () => {
    const cfgFile = put(
      'device.json',
      JSON.stringify({ store: { dir: join(root, 'data') }, vision: { modelDir: join(root, 'no-models') }, http: { port: 0 }, camera: { simulated: { source: join(root, 'none.mjpeg') } } }),
    );
    const out: string[] = [];
    const log = console.log;
    console.log = (s: string) => out.push(s);
    try {
      expect(await runDeviceCli(['doctor', '--config', cfgFile])).toBe(1);
    } finally {
      console.log = log;
    }
    expect(out.join('\n')).toMatch(/^FAIL model detect +.*no-models\/fr_detect\.onnx missing\n +fix: npm run fetch-models/m);
  });
});
