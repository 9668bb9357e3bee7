/**
 * Gateway commands (already verified): unlock, resync, enrol-here. Each answers with a signed
 * `response` carrying its transaction id. A tid seen before is never executed again (a command
 * re-delivered by the broker must not open the door twice); its earlier answer is repeated.
 */
import { createLogger } from '../../core/log/logger.ts';
import { GATEWAY, type DownBody, type UpBody } from '../../core/sync/contract.ts';
import { sealEmbedding } from '../../core/sync/seal.ts';

const log = createLogger('sync');

type Command = DownBody<'command'>;
type Response = UpBody<'response'>;

export interface EnrolmentCapture {
  embedding: Float32Array;
  /** Mean liveness score over the frames used. */
  live: number;
  /** Quality of the frame the template came from (0..1, higher is better). */
  quality: number;
}

export type CaptureEnrolment = (opts: { timeoutMs: number; signal?: AbortSignal }) => Promise<EnrolmentCapture>;

export interface SyncDoor {
  unlock(reason: string, opts?: { beforeRelease?: () => Promise<void> }): Promise<void>;
}

export interface CommandDeps {
  door: SyncDoor;
  audit: (kind: string, body: Record<string, unknown>, id?: string) => void;
  /** Forget the cursor and ask for a snapshot. */
  resync: () => Promise<void>;
  captureEnrolment?: CaptureEnrolment;
  /** The gateway's pinned X25519 key (templates up are sealed to it). */
  gatewaySealPublicKey: string;
  respond: (r: Response) => void;
  /** Default capture time for enrol-here. */
  enrolTimeoutMs?: number;
}

const REMEMBER = 100;

export class CommandRunner {
  /** tid -> answer (null while still running). Insertion order = age. */
  private readonly seen = new Map<string, Response | null>();
  private enrolling = false;

  constructor(private readonly d: CommandDeps) {}

  async run(c: Command): Promise<void> {
    if (this.seen.has(c.tid)) {
      const earlier = this.seen.get(c.tid);
      log.warn('command already executed; not running it again', { tid: c.tid, command: c.command });
      if (earlier) this.d.respond(earlier);
      return;
    }
    this.seen.set(c.tid, null);
    while (this.seen.size > REMEMBER) this.seen.delete(this.seen.keys().next().value!);
    let r: Response;
    try {
      r = await this.execute(c);
    } catch (err) {
      r = { tid: c.tid, ok: false, error: (err as Error).message || String(err) };
    }
    if (!r.ok) log.warn('command failed', { tid: c.tid, command: c.command, error: r.error });
    else log.info('command done', { tid: c.tid, command: c.command, actor: c.actor });
    if (this.seen.has(c.tid)) this.seen.set(c.tid, r);
    this.d.respond(r);
  }

  private async execute(c: Command): Promise<Response> {
    switch (c.command) {
      case 'unlock': {
        const reason = c.args.reason ?? '';
        await this.d.door.unlock(`remote:${c.actor}`, {
          // Recorded durably before the relay moves, like every other unlock.
          beforeRelease: async () => this.d.audit('door', { type: 'remote_unlock', actor: c.actor, reason, tid: c.tid }),
        });
        return { tid: c.tid, ok: true };
      }
      case 'resync':
        await this.d.resync();
        return { tid: c.tid, ok: true };
      case 'enrol-here':
        return this.enrolHere(c);
    }
  }

  private async enrolHere(c: Command): Promise<Response> {
    const personId = c.args.personId;
    if (!personId) return { tid: c.tid, ok: false, error: 'enrol-here needs args.personId' };
    if (!this.d.captureEnrolment) return { tid: c.tid, ok: false, error: 'enrol-here is not available on this device (no camera capture wired)' };
    if (this.enrolling) return { tid: c.tid, ok: false, error: 'another enrol-here capture is running on this device' };
    this.enrolling = true;
    try {
      const got = await this.d.captureEnrolment({ timeoutMs: c.args.timeoutMs ?? this.d.enrolTimeoutMs ?? 20_000 });
      const template = sealEmbedding(this.d.gatewaySealPublicKey, GATEWAY, personId, got.embedding);
      return { tid: c.tid, ok: true, result: { template, live: got.live, quality: got.quality } };
    } catch (err) {
      return { tid: c.tid, ok: false, error: `enrol-here capture failed: ${(err as Error).message}` };
    } finally {
      this.enrolling = false;
    }
  }
}
