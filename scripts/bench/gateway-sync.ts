/**
 * The gateway under load, in one process over TCP loopback: a real gateway (temp store, embedded
 * broker, HTTP on a free port) sharing the bench's vision engine, and 200 light simulated devices
 * (sim-device.ts) speaking the real signed protocol. Measures
 * - gateway enrolment per photo (one-face LFW photos, a new person each; idle gateway, no devices
 *   yet, so the figure is the enrolment and not the sync it triggers),
 * - audit ingest: every device drains batches with one in flight, each waiting for its signed ack;
 *   events acknowledged per second, then the store must hold every event exactly once (re-sending
 *   one batch per device must add nothing),
 * - fan-out: one enrolment until all 200 devices have applied the person with a template that
 *   opens with their own key (median of runs).
 * Throws (the bench exits non-zero) when the exactly-once or the fan-out check fails.
 */
import { readFileSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseConfig } from '../../core/config/load.ts';
import { decodeBundle } from '../../core/sync/bundle.ts';
import type { WireEvent } from '../../core/sync/contract.ts';
import type { VisionEngine } from '../../core/vision/engine.ts';
import { gatewayConfigSchema } from '../../gateway/config.ts';
import { startGateway, type Gateway } from '../../gateway/gateway.ts';
import { readTsv, sharedDir } from '../eval/dataset.ts';
import { percentile, round2 } from '../eval/stats.ts';
import { SimDevice } from './sim-device.ts';

const root = resolve(import.meta.dirname, '../..');
const DOOR = 'main';
const ALWAYS = [{ door: '*', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as ('mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun')[], from: '00:00', to: '24:00' }];

export interface GatewaySyncOptions {
  devices?: number;
  batches?: number;
  batchSize?: number;
  /** Photos timed for enrol_photo_*. */
  photos?: number;
  fanoutRuns?: number;
  /** ../shared (PORTIER_SHARED) by default. */
  shared?: string;
  log?: (line: string) => void;
}

export interface GatewaySyncBench {
  devices: number;
  audit_events: number;
  audit_s: number;
  audit_events_per_s: number;
  audit_stored: number;
  fanout_200_ms: number;
  fanout_200_runs_ms: number[];
  enrol_photo_p50_ms: number;
  enrol_photo_p95_ms: number;
  enrol_photos: number;
  enrol_accepted: number;
  /** p50 over the accepted photos only (face found, quality ok, template stored). */
  enrol_photo_accepted_p50_ms: number;
  enrol_photo_source: string;
}

export class BenchCheckFailed extends Error {
  override name = 'BenchCheckFailed';
}

/** One-face LFW photos with the same stride as the pipeline bench; the two fixtures when ../shared is missing. */
export function enrolPhotoSet(n: number, shared = sharedDir()): { files: string[]; source: string } {
  const manifest = join(shared, 'faces/manifest.tsv');
  if (existsSync(manifest)) {
    const lfw = readTsv(manifest).filter((r) => /lfw/i.test(r.source_path)).map((r) => join(shared, 'faces', r.path)).sort();
    const stride = Math.max(1, Math.floor(lfw.length / n));
    const files = lfw.filter((_, i) => i % stride === 0).slice(0, n);
    if (files.length) return { files, source: `${files.length} one-face LFW photos from ${shared}/faces` };
  }
  const fixtures = ['grace_hopper.jpg', 'astronaut_eileen_collins.png'].map((f) => join(root, 'test/fixtures', f));
  return { files: Array.from({ length: n }, (_, i) => fixtures[i % 2]), source: `${shared} missing: the two test/fixtures photos repeated ${n} times` };
}

/** Runs fn over items with at most `limit` in flight (200 scrypt checks at once would only queue). */
async function inBatches<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += limit) out.push(...(await Promise.all(items.slice(i, i + limit).map(fn))));
  return out;
}

async function benchEnrol(gw: Gateway, files: string[]): Promise<{ times: number[]; acceptedTimes: number[] }> {
  const times: number[] = [];
  const acceptedTimes: number[] = [];
  for (const [i, file] of files.entries()) {
    const id = `bench-enrol-${i}`;
    gw.store.people.create({ id, name: id });
    const data = readFileSync(file);
    const t = performance.now();
    const [fb] = await gw.enrolment.enrolPhotos(id, [{ name: file, data }]);
    times.push(performance.now() - t);
    // Refused photos (several faces, pose) skip the embedding: shown apart so the mix is visible.
    if (fb.accepted) acceptedTimes.push(times[times.length - 1]);
  }
  return { times, acceptedTimes };
}

async function benchAudit(gw: Gateway, devices: SimDevice[], batches: number, batchSize: number, log: (l: string) => void): Promise<{ events: number; seconds: number; stored: number }> {
  const total = devices.length * batches * batchSize;
  const before = gw.store.audit.count({ kind: 'decision' });
  const makeBatch = (d: SimDevice, b: number): WireEvent[] =>
    Array.from({ length: batchSize }, (_, i) => {
      const seq = b * batchSize + i + 1;
      return { seq, id: `${d.id}-${seq}`, ts: Date.now(), kind: 'decision', body: { granted: seq % 3 !== 0, reason: seq % 3 ? 'granted' : 'unknown', personId: null, door: DOOR, score: 0.5 } };
    });
  let acked = 0;
  let duplicates = 0;
  const t0 = performance.now();
  await Promise.all(
    devices.map(async (d) => {
      for (let b = 0; b < batches; b++) {
        const ack = await d.sendAudit(makeBatch(d, b));
        acked += ack.received;
        duplicates += ack.duplicates;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  // A lost ack makes a device send its batch again: the gateway must store nothing twice.
  let resentDuplicates = 0;
  await Promise.all(
    devices.map(async (d) => {
      const ack = await d.sendAudit(makeBatch(d, 0));
      resentDuplicates += ack.duplicates;
    }),
  );
  const stored = gw.store.audit.count({ kind: 'decision' }) - before;
  const ok = acked === total && duplicates === 0 && stored === total && resentDuplicates === devices.length * batchSize;
  log(`audit exactly-once check: ${total} events sent, ${acked} acked as new, ${stored} in the gateway store; ${devices.length} batches re-sent, ${resentDuplicates} recognised as duplicates: ${ok ? 'OK' : 'FAILED'}`);
  if (!ok) throw new BenchCheckFailed(`audit exactly-once check failed: sent ${total}, acked new ${acked} (duplicates ${duplicates}), stored ${stored}, re-sent duplicates ${resentDuplicates}`);
  return { events: total, seconds, stored };
}

async function benchFanout(gw: Gateway, devices: SimDevice[], runs: number, log: (l: string) => void): Promise<number[]> {
  const photo = { name: 'grace_hopper.jpg', data: readFileSync(join(root, 'test/fixtures/grace_hopper.jpg')) };
  const out: number[] = [];
  for (let r = 0; r < runs; r++) {
    const id = `bench-fanout-${r}`;
    gw.store.people.create({ id, name: `Fan-out ${r}`, schedules: ALWAYS });
    const arrived = devices.map((d) => d.until(() => (d.gallery.get(id) ?? 0) > 0, 30_000, `person ${id} with an opened template`));
    // Creating the person above sent nothing: no notify until the enrolment below.
    const t0 = performance.now();
    // The same face for every run: force past the duplicate refusal (the people are different).
    const [fb] = await gw.enrolment.enrolPhotos(id, [photo], { force: r > 0 });
    if (!fb.accepted) throw new BenchCheckFailed(`fan-out enrolment of ${id} was refused (${fb.refusal}: ${fb.quality.reasons.join(', ')})`);
    gw.sync.registerChanged();
    const settled = await Promise.allSettled(arrived);
    const ms = performance.now() - t0;
    const failed = settled.filter((s) => s.status === 'rejected');
    if (failed.length) throw new BenchCheckFailed(`fan-out check failed: ${failed.length} of ${devices.length} devices did not apply ${id}: ${(failed[0] as PromiseRejectedResult).reason}`);
    out.push(round2(ms));
  }
  const complete = devices.every((d) => Array.from({ length: runs }, (_, r) => d.gallery.get(`bench-fanout-${r}`) ?? 0).every((n) => n > 0));
  log(`fan-out check: all ${devices.length} devices hold the ${runs} enrolled people with templates sealed to them: ${complete ? 'OK' : 'FAILED'}`);
  if (!complete) throw new BenchCheckFailed('fan-out check failed: a device lost an earlier person');
  return out;
}

export async function benchGatewaySync(engine: VisionEngine, o: GatewaySyncOptions = {}): Promise<GatewaySyncBench> {
  const n = o.devices ?? 200;
  const log = o.log ?? ((l: string) => console.log(l));
  const dir = mkdtempSync(join(tmpdir(), 'portier-gateway-bench-'));
  let gw: Gateway | undefined;
  const devices: SimDevice[] = [];
  try {
    const config = parseConfig(gatewayConfigSchema, { store: { dir }, http: { port: 0 }, broker: { host: '127.0.0.1', port: 0 } });
    gw = await startGateway(config, { engine });

    const photos = enrolPhotoSet(o.photos ?? 100, o.shared);
    log(`gateway enrolment photos: ${photos.source}`);
    const enrol = await benchEnrol(gw, photos.files);

    const ids = Array.from({ length: n }, (_, i) => `bench-${String(i).padStart(3, '0')}`);
    const bundles = await inBatches(ids, 16, (id) => gw!.provision(id, { doorId: DOOR }));
    devices.push(...bundles.map((p) => new SimDevice(decodeBundle(p.bundle))));
    await inBatches(devices, 25, (d) => d.connect());
    // Joined (keys pinned, notify received) and at the register head.
    await Promise.all(devices.map((d) => d.until(() => d.synced && d.cursor! >= gw!.store.register.head(), 60_000, 'initial sync')));
    log(`${n} simulated devices connected over TCP loopback, joined and synced (head ${gw.store.register.head()})`);

    const audit = await benchAudit(gw, devices, o.batches ?? 10, o.batchSize ?? 100, log);
    const runs = await benchFanout(gw, devices, o.fanoutRuns ?? 3, log);
    const rejected = devices.flatMap((d) => d.rejections.map((r) => `${d.id}: ${r}`));
    if (rejected.length) throw new BenchCheckFailed(`${rejected.length} gateway messages failed verification at the devices, e.g. ${rejected[0]}`);

    return {
      devices: n,
      audit_events: audit.events,
      audit_s: round2(audit.seconds),
      audit_events_per_s: Math.round(audit.events / audit.seconds),
      audit_stored: audit.stored,
      fanout_200_ms: round2(percentile(runs, 50)),
      fanout_200_runs_ms: runs,
      enrol_photo_p50_ms: round2(percentile(enrol.times, 50)),
      enrol_photo_p95_ms: round2(percentile(enrol.times, 95)),
      enrol_photos: enrol.times.length,
      enrol_accepted: enrol.acceptedTimes.length,
      enrol_photo_accepted_p50_ms: round2(percentile(enrol.acceptedTimes, 50)),
      enrol_photo_source: photos.source,
    };
  } finally {
    await Promise.all(devices.map((d) => d.stop()));
    await gw?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
