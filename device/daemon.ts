/**
 * Wires the device together in one place: every module gets its dependencies as one object,
 * starts in order, and stops in reverse so the door is in its safe state before anything else
 * goes away.
 */
import { EventEmitter } from 'node:events';
import { createLogger } from '../core/log/logger.ts';
import { VisionEngine } from '../core/vision/engine.ts';
import { createCamera } from './camera/create.ts';
import type { Camera } from './camera/types.ts';
import type { DeviceConfig } from './config.ts';
import { Door, type DoorEvent } from './door/door.ts';
import { idleInputs } from './door/simulate.ts';
import { Gallery } from './gallery/gallery.ts';
import { createGpio } from './gpio/create.ts';
import type { Gpio } from './gpio/types.ts';
import { createStatusServer, type DeviceStateSnapshot, type StatusServer } from './http/server.ts';
import { createDeviceMetrics, type DeviceMetrics } from './metrics/device-metrics.ts';
import { accessGroupSchema, toAccessSubject, type AccessGroup, type AccessSubject } from './policy/profile.ts';
import { RecognitionLoop, type DecisionEvent } from './recognition/loop.ts';
import { AdaptiveEnrolment } from './recognition/adaptive.ts';
import { loadBackground, loadBackgroundSecond } from './gallery/background.ts';
import { OperatingPoint } from './gallery/operating-point.ts';
import { openSecondEmbedder } from './gallery/second-model.ts';
import type { SecondEmbedder } from '../core/vision/second-embedder.ts';
import { enabledCues } from './liveness/cues.ts';
import { loadCalibration } from './liveness/fusion.ts';
import { createPrompter } from './liveness/prompt.ts';
import { AuditBacklog } from './store/backlog.ts';
import { openStore, type DeviceStore } from './store/store.ts';
import { createSystemdNotifier, type SystemdNotifier } from './systemd/notifier.ts';
import type { NotifyTransport } from './systemd/transport.ts';
import type { SyncClient } from './sync/client.ts';
import { startDeviceSync } from './sync/wiring.ts';
import { softwareVersion } from './version.ts';

const log = createLogger('device');
/** Start time asked for while GPU engines may be built (five models, each up to a few minutes). */
const GPU_ENGINE_BUILD_MS = 20 * 60_000;

export interface DeviceOverrides {
  camera?: Camera;
  gpio?: Gpio;
  engine?: VisionEngine;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
  /** Replaces the systemd-notify transport (tests). */
  notifyTransport?: NotifyTransport;
}

export interface Device extends EventEmitter {
  config: DeviceConfig;
  engine: VisionEngine;
  store: DeviceStore;
  gallery: Gallery;
  /** The second embedding (gallery.secondEmbedding) when loaded: enrolPerson stores its templates too. */
  secondEmbedder?: SecondEmbedder;
  gpio: Gpio;
  door: Door;
  camera: Camera;
  loop: RecognitionLoop;
  metrics: DeviceMetrics;
  /** MQTT sync with the gateway; absent when disabled or not joined. */
  sync?: SyncClient;
  http?: { host: string; port: number };
  state(): DeviceStateSnapshot;
  stop(): Promise<void>;
}

export async function startDevice(config: DeviceConfig, o: DeviceOverrides = {}): Promise<Device> {
  const notifier: SystemdNotifier = createSystemdNotifier({ config: config.systemd, env: o.env, transport: o.notifyTransport });
  const now = o.now ?? Date.now;
  const events = new EventEmitter();
  const store = await openStore(config.store, { env: o.env });
  const cleanup: (() => Promise<void> | void)[] = [() => store.close()];
  try {
    // TensorRT engines are cached in the store folder, beside the data that survives updates.
    // Building them the first time (or after an update) takes minutes on a Jetson, beyond the
    // unit's TimeoutStartSec: ask systemd for the time before the engine is made.
    if (!o.engine && config.vision.executionProviders.some((p) => p !== 'cpu')) await notifier.extendTimeout(GPU_ENGINE_BUILD_MS);
    const engine = o.engine ?? (await VisionEngine.create(config.vision, { storeDir: config.store.dir }));
    if (!o.engine) cleanup.push(() => engine.close());
    const gallery = new Gallery(config.gallery);
    cleanup.push(() => gallery.close());
    const secondEmbedder = await openSecondEmbedder(config.gallery, config.vision);
    if (secondEmbedder) cleanup.push(() => secondEmbedder.release());
    const { loaded, rejected } = store.loadGallery(gallery);
    log.info('gallery loaded', { templates: loaded, rejected, people: gallery.personCount, withSecond: gallery.secondCount, kernel: gallery.kernel });
    // The 1:N vote threshold for recognition.targetFpir, derived before the first frame and again
    // after every enrolment change (unless recognition.matchThreshold overrides it).
    // With the second model loaded the threshold is derived on the door's gated fused scores
    // (the background's second embeddings beside the main ones).
    const background = loadBackground();
    const backgroundSecond = secondEmbedder ? loadBackgroundSecond(background) : undefined;
    if (secondEmbedder && !backgroundSecond) log.warn('no second-model background (device/gallery/background-second.bin); the threshold is derived on main scores alone');
    const operatingPoint = new OperatingPoint(gallery, background, { targetFpir: config.recognition.targetFpir, override: config.recognition.matchThreshold, backgroundSecond });
    cleanup.push(() => operatingPoint.close());
    await operatingPoint.derive();

    let backlogSize = () => 0;
    const metrics = createDeviceMetrics({ config: config.metrics, outboxDepth: () => store.outbox.count(), gallerySize: () => gallery.personCount, auditBacklog: () => backlogSize(), salvagedRows: () => salvageTotals(store), matchThreshold: () => operatingPoint.state });
    let sync: SyncClient | undefined;
    const audit = (kind: string, body: Record<string, unknown>, id?: string) => {
      const seq = store.outbox.append({ kind, id, body: { device: config.deviceId, ...body } });
      sync?.notifyOutbox();
      return seq;
    };

    // A simulated board starts with the door closed and the exit button released.
    // An unset gpio.type on a Raspberry Pi or Jetson stops the start here (gpio/board.ts).
    const gpio = o.gpio ?? createGpio(config.gpio, { simulatedInputs: idleInputs(config.door) });
    metrics.gpioDriver.set({ type: gpio.kind }, 1);
    for (const [model, m] of Object.entries(engine.models())) metrics.modelInfo.set({ model, ...m }, 1);
    if (!o.gpio) cleanup.push(() => gpio.close());
    // The exit button (and any unlock without its own hook) is recorded before the relay moves.
    const door = new Door(config.door, { gpio, beforeRelease: async (reason) => void audit('door', { type: 'release', reason, door: config.recognition.door }) });
    // Door events (the exit button among them) happened whatever the disk says: a record the
    // disk refuses waits in memory and is retried instead of being lost.
    const backlog = new AuditBacklog((e) => void audit(e.kind, e.body, e.id));
    backlogSize = () => backlog.size;
    if (store.salvage) {
      backlog.record({ kind: 'store', body: { event: 'salvaged', ...store.salvage, lostRows: salvageTotals(store).lost } });
    }
    cleanup.push(() => backlog.stop());
    door.on('event', (ev: DoorEvent) => {
      backlog.record({ kind: 'door', body: { ...ev, door: config.recognition.door } });
      if (ev.type === 'unlocked' || ev.type === 'relocked') metrics.setDoorState(config.recognition.door, ev.type === 'unlocked' ? 'unlocked' : 'locked');
      sync?.notifyState();
      events.emit('door', ev);
    });
    await door.start();
    cleanup.push(() => door.stop());
    metrics.setDoorState(config.recognition.door, 'locked');

    let lastDecision: DecisionEvent | null = null;
    let lastTickAt: number | null = null;
    // Records are parsed where they enter the decision: a malformed row (schedules not a list,
    // days as one string) is refused as invalid_profile with a logged reason, never trusted.
    const warnedInvalid = new Set<string>();
    const person = (id: string): AccessSubject | undefined => {
      let subject: AccessSubject;
      try {
        const p = store.persons.get(id);
        if (!p) return undefined;
        subject = toAccessSubject({ ...p });
      } catch (err) {
        // A row whose JSON columns do not even parse: refused like any other malformed record.
        subject = { id, invalid: `unreadable row (${(err as Error).message})` };
      }
      if (subject.invalid && !warnedInvalid.has(id)) {
        warnedInvalid.add(id);
        log.error('person record is invalid; this person is refused until it is fixed', { personId: id, problems: subject.invalid });
      }
      return subject;
    };
    const groups = (): Record<string, AccessGroup> => {
      const raw = (store.settings.data.values.groups ?? {}) as Record<string, unknown>;
      const out: Record<string, AccessGroup> = {};
      for (const [id, g] of Object.entries(raw)) {
        const parsed = accessGroupSchema.safeParse({ id, ...(g as object) });
        if (parsed.success) out[id] = parsed.data;
        else log.warn('ignoring invalid access group', { id });
      }
      return out;
    };

    const camera = o.camera ?? createCamera(config.camera);
    // A broken calibration file must not stop the door: the shipped weights stand in, loudly.
    let calibration;
    try {
      calibration = loadCalibration(config.liveness.calibration);
    } catch (err) {
      log.error('liveness calibration unusable; using the shipped one', { error: (err as Error).message });
      calibration = loadCalibration();
    }
    const cues = enabledCues(config.liveness, config.camera.spectrum, calibration);
    const loop = new RecognitionLoop({
      camera,
      engine,
      gallery,
      secondEmbedder,
      config: config.recognition,
      liveness: {
        config: config.liveness,
        calibration,
        cues,
        eyes: cues.some((c) => c.name === 'blink') || (config.liveness.level === 'strict' && config.liveness.challenge.kinds.includes('blink')),
        prompt: createPrompter(config.liveness.challenge.prompt, log),
      },
      policy: config.policy,
      person,
      groups,
      metrics,
      now,
      act: async (d) => {
        const record = () => void audit('decision', { ...d }, d.id);
        if (d.granted) await door.unlock(`granted:${d.personId}`, { beforeRelease: async () => record() });
        else record();
      },
      onTick: () => {
        lastTickAt = now();
      },
    });
    const adaptive = new AdaptiveEnrolment(gallery, config.recognition.adaptive, (body) => void audit('template', body), now);
    cleanup.push(() => adaptive.close());
    let lastChallenge: { at: string; prompt: string } | null = null;
    loop.on('challenge', (c: { prompt: string }) => (lastChallenge = { at: new Date(now()).toISOString(), prompt: c.prompt }));
    loop.on('decision', (d: DecisionEvent) => {
      adaptive.onDecision(d);
      lastDecision = d;
      events.emit('decision', d);
    });
    // A camera going away or coming back is recorded: the door keeps working without it.
    let cameraWasUp: boolean | null = null;
    camera.on('status', (st: string) => {
      const up = st === 'streaming';
      metrics.cameraUp.set(up ? 1 : 0);
      if (cameraWasUp !== null && up !== cameraWasUp && st !== 'stopped') backlog.record({ kind: 'camera', body: { status: up ? 'up' : 'down', driver: camera.kind, state: st, door: config.recognition.door } });
      if (up || st !== 'starting') cameraWasUp = up;
      sync?.notifyState();
    });
    await camera.start();
    cleanup.push(() => camera.stop());
    loop.start();
    cleanup.push(() => loop.stop());

    const cameraHealth = () => (camera.status === 'streaming' ? 'up' : camera.status === 'starting' || camera.status === 'restarting' ? 'starting' : 'down');
    const state = (): DeviceStateSnapshot => ({
      door: { state: door.state.locked ? 'locked' : 'unlocked', open: door.state.open, alarms: { heldOpen: door.state.heldOpenAlarm, forcedOpen: door.state.forcedOpenAlarm } } as DeviceStateSnapshot['door'],
      lastDecision: lastDecision && { at: new Date(lastDecision.ts).toISOString(), door: lastDecision.door, granted: lastDecision.granted, reason: lastDecision.reason, personId: lastDecision.personId, liveness: lastDecision.liveness },
      camera: { status: cameraHealth(), lastFrameAt: lastTickAt ? new Date(lastTickAt).toISOString() : null },
      gallerySize: gallery.personCount,
      outboxDepth: store.outbox.count(),
      cameraDriver: { kind: camera.kind, status: camera.status, ...camera.stats },
      sync: deviceSync.status(),
      gpio: gpio.kind,
      models: engine.models(),
      match: operatingPoint.state,
      liveness: { level: config.liveness.level, cues: cues.map((c) => c.name), spectrum: config.camera.spectrum, calibration: calibration.about, lastChallenge },
    });
    const statusFields = () => ({
      door: { id: config.recognition.door, state: door.state.locked ? 'locked' : 'unlocked', open: door.state.open ?? null, alarms: [door.state.heldOpenAlarm && 'held_open', door.state.forcedOpenAlarm && 'forced_open'].filter((a): a is string => !!a) },
      camera: { status: cameraHealth(), driver: camera.kind },
      gpio: gpio.kind,
      gallerySize: gallery.personCount,
      outboxDepth: store.outbox.count(),
      versions: { software: softwareVersion(), models: { ...engine.precision } },
    });
    const deviceSync = await startDeviceSync({
      config: config.sync, deviceId: config.deviceId, doorId: config.recognition.door, store, gallery, door, camera, loop, engine, metrics,
      audit: (kind, body, id) => void audit(kind, body, id), state: statusFields, now,
    });
    sync = deviceSync.client;
    if (sync) cleanup.push(() => sync!.stop());

    let http: StatusServer | undefined;
    let address: { host: string; port: number } | undefined;
    if (config.http.enabled) {
      http = createStatusServer({
        config: config.http,
        state,
        metrics: () => metrics.registry.metrics(),
        health: () => ({ camera: cameraHealth(), lastTickAt, warnings: [...deviceSync.warnings(), ...(backlog.size ? ['audit_backlog'] : []), ...(store.salvage ? ['store_salvaged'] : []), ...(gpio.healthy && !gpio.healthy() ? ['gpio_helper_down'] : [])] }),
      });
      address = await http.start();
      cleanup.push(() => http!.stop());
    }
    // The watchdog follows the daemon's own health, not the camera: the event loop runs (this
    // timer fires) and the door state machine holds its pins. A camera outage leaves the door,
    // its exit button and alarms running, reported in /health, instead of a restart loop.
    if (notifier.watchdogIntervalMs !== null) {
      const every = Math.max(50, Math.floor(notifier.watchdogIntervalMs / 2));
      const ping = setInterval(() => {
        if (door.state.started) notifier.watchdog();
      }, every);
      ping.unref();
      cleanup.push(() => clearInterval(ping));
    }
    await notifier.ready(`door ${config.recognition.door}: ${gallery.personCount} people enrolled`);

    let stopping: Promise<void> | undefined;
    const device = Object.assign(events, {
      config, engine, store, gallery, secondEmbedder, gpio, door, camera, loop, metrics, sync, http: address, state,
      stop: () =>
        (stopping ??= (async () => {
          await notifier.stopping();
          await runCleanup(cleanup);
          await notifier.flush();
        })()),
    });
    return device as Device;
  } catch (err) {
    await runCleanup(cleanup);
    throw err;
  }
}

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
const salvageTotals = (store: DeviceStore) => (store.salvage ? { recovered: sum(store.salvage.recovered), lost: sum(store.salvage.lost) } : { recovered: 0, lost: 0 });

/** Undo start-up in reverse order; one failing step must not keep the door from its safe state. */
async function runCleanup(steps: (() => Promise<void> | void)[]): Promise<void> {
  for (const step of steps.reverse()) {
    try {
      await step();
    } catch (err) {
      log.error('error while stopping', { error: (err as Error).message });
    }
  }
}
