/**
 * Door state machine over the GPIO: lock relay, door contact and exit button.
 *
 * - unlock(reason) releases the lock for `unlockMs` (a second grant extends it). Its
 *   `beforeRelease` hook runs first and must resolve before the relay moves: the daemon makes
 *   the audit event durable there, so no door opens without a record. If the hook fails the
 *   relay is not touched and unlock() rejects.
 * - The door closing after it was opened during a grant relocks at once (relockOnClose).
 * - An authorised opening that lasts longer than `heldOpenMs` raises held_open_alarm.
 * - The contact opening while locked with no grant raises forced_open_alarm.
 * - The exit button (REX) releases the lock at once, without recognition and without waiting
 *   for any record (the way out never depends on the disk); its events are recorded after, by
 *   the 'event' listeners. With unlocks: false it authorises an opening for `graceMs`.
 * Every event carries a timestamp and is emitted both under its type and as 'event'.
 */
import { EventEmitter } from 'node:events';
import { createLogger } from '../../core/log/logger.ts';
import { systemClock, type Clock } from '../gpio/clock.ts';
import type { Gpio, InputPin, Level, OutputPin } from '../gpio/types.ts';
import type { DoorConfig } from './config.ts';
import { relayLevels, type RelayLevels } from './levels.ts';

export type DoorEventType = 'unlocked' | 'relocked' | 'opened' | 'closed' | 'held_open_alarm' | 'forced_open_alarm' | 'alarm_cleared' | 'rex' | 'relay_fault';

export interface DoorEvent {
  type: DoorEventType;
  ts: number;
  /** unlocked: the caller's reason ('rex' for the exit button); relocked: timeout | door_closed | manual | stop. */
  reason?: string;
  /** opened: whether a grant or REX covered it. */
  authorized?: boolean;
  /** unlocked: when the lock will relock unless extended. */
  until?: number;
  /** held_open_alarm: how long the door has been open. */
  openForMs?: number;
  /** alarm_cleared: which alarm ended (door closed). */
  alarm?: 'held_open' | 'forced_open';
}

export interface DoorDeps {
  gpio: Gpio;
  clock?: Clock;
  /** Default durability hook for every unlock, including REX; unlock()'s own option overrides it. */
  beforeRelease?: (reason: string) => Promise<void>;
  /** Write the de-energised level from a process 'exit' handler (default true). */
  crashGuard?: boolean;
}

export interface DoorState {
  started: boolean;
  locked: boolean;
  /** null when no contact is wired. */
  open: boolean | null;
  heldOpenAlarm: boolean;
  forcedOpenAlarm: boolean;
}

export class Door extends EventEmitter {
  private readonly log = createLogger('door');
  private readonly clock: Clock;
  private readonly levels: RelayLevels;
  private relay: OutputPin | undefined;
  private contact: InputPin | undefined;
  private button: InputPin | undefined;
  private unsubscribe: (() => void)[] = [];
  private started = false;
  private locked = true;
  private open = false;
  private authorizedUntil = 0;
  private openedDuringGrant = false;
  private heldAlarm = false;
  private forcedAlarm = false;
  private pulseTimer: unknown;
  private heldTimer: unknown;
  private readonly onExit = () => this.relay?.write(this.levels.deenergised);

  constructor(private readonly cfg: DoorConfig, private readonly deps: DoorDeps) {
    super();
    this.clock = deps.clock ?? systemClock;
    this.levels = relayLevels(cfg);
  }

  get state(): DoorState {
    return {
      started: this.started,
      locked: this.locked,
      open: this.contact ? this.open : null,
      heldOpenAlarm: this.heldAlarm,
      forcedOpenAlarm: this.forcedAlarm,
    };
  }

  async start(): Promise<void> {
    if (this.started) return;
    const { gpio } = this.deps;
    this.relay = gpio.output(this.cfg.relay.pin, this.levels.locked);
    this.locked = true;
    if (this.cfg.contact.enabled) {
      this.contact = gpio.input(this.cfg.contact.pin, { debounceMs: this.cfg.contact.debounceMs });
      this.open = this.contact.read() === this.cfg.contact.openLevel;
      if (this.open) this.log.warn('door is open at start');
      this.unsubscribe.push(this.contact.onChange((l, ts) => this.onContact(l, ts)));
    }
    if (this.cfg.exitButton.enabled) {
      this.button = gpio.input(this.cfg.exitButton.pin, { debounceMs: this.cfg.exitButton.debounceMs });
      this.unsubscribe.push(this.button.onChange((l, ts) => this.onButton(l, ts)));
    }
    if (this.deps.crashGuard !== false) process.on('exit', this.onExit);
    this.started = true;
    this.log.info('door started', { failMode: this.cfg.failMode, lockedLevel: this.levels.locked });
  }

  /** Drives the de-energised level (locked when fail-secure, released when fail-safe) and frees the pins. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.clearTimer('pulseTimer');
    this.clearTimer('heldTimer');
    for (const u of this.unsubscribe.splice(0)) u();
    process.off('exit', this.onExit);
    const relay = this.relay!;
    relay.write(this.levels.deenergised);
    this.locked = this.levels.deenergised === this.levels.locked;
    if (this.locked) this.emitEvent({ type: 'relocked', reason: 'stop' });
    relay.close();
    this.contact?.close();
    this.button?.close();
    this.relay = this.contact = this.button = undefined;
  }

  /**
   * Release the lock for `durationMs` (default unlockMs). Resolves once the relay is released;
   * rejects, leaving the lock as it was, when the door is stopped or beforeRelease fails.
   */
  async unlock(reason: string, opts: { beforeRelease?: (() => Promise<void>) | null; durationMs?: number } = {}): Promise<void> {
    if (!this.started) throw new Error('door is not started');
    // null: release without a durability hook (the exit button).
    const hook = opts.beforeRelease === null ? undefined : (opts.beforeRelease ?? (this.deps.beforeRelease ? () => this.deps.beforeRelease!(reason) : undefined));
    if (hook) {
      try {
        await hook();
      } catch (err) {
        this.log.error('unlock refused: the event could not be made durable', { reason, err: (err as Error).message });
        throw err;
      }
      if (!this.started) throw new Error('door stopped while the unlock was being recorded');
    }
    const duration = opts.durationMs ?? this.cfg.unlockMs;
    const now = this.clock.now();
    this.relay!.write(this.levels.unlocked);
    if (this.locked) this.openedDuringGrant = false;
    this.locked = false;
    this.authorizedUntil = now + duration;
    this.clearTimer('pulseTimer');
    this.pulseTimer = this.clock.setTimeout(() => this.relock('timeout'), duration);
    this.emitEvent({ type: 'unlocked', reason, until: this.authorizedUntil });
  }

  /** Relock now (e.g. an operator command). */
  lock(reason = 'manual'): void {
    if (this.started && !this.locked) this.relock(reason);
  }

  private relock(reason: string): void {
    this.clearTimer('pulseTimer');
    try {
      this.relay!.write(this.levels.locked);
    } catch (err) {
      // A relay write can fail (a GPIO helper busy or gone). Never throw out of a timer: say so
      // and try again shortly, the lock state unchanged until a write succeeds.
      this.log.error('relay could not be driven to the locked level; retrying', { reason, err: (err as Error).message });
      this.emitEvent({ type: 'relay_fault', reason: `relock:${reason}` });
      this.pulseTimer = this.clock.setTimeout(() => this.relock(reason), 1000);
      return;
    }
    this.locked = true;
    this.authorizedUntil = Math.min(this.authorizedUntil, this.clock.now());
    this.emitEvent({ type: 'relocked', reason });
  }

  private onContact(level: Level, ts: number): void {
    const open = level === this.cfg.contact.openLevel;
    if (open === this.open) return;
    this.open = open;
    if (open) {
      const authorized = !this.locked || ts < this.authorizedUntil;
      this.emitEvent({ type: 'opened', authorized }, ts);
      if (authorized) {
        this.openedDuringGrant = true;
        if (this.cfg.heldOpenMs > 0) {
          this.heldTimer = this.clock.setTimeout(() => {
            this.heldTimer = undefined;
            this.heldAlarm = true;
            this.emitEvent({ type: 'held_open_alarm', openForMs: this.cfg.heldOpenMs });
          }, this.cfg.heldOpenMs);
        }
      } else {
        this.forcedAlarm = true;
        this.emitEvent({ type: 'forced_open_alarm' }, ts);
      }
      return;
    }
    this.clearTimer('heldTimer');
    this.emitEvent({ type: 'closed' }, ts);
    if (this.heldAlarm) this.emitEvent({ type: 'alarm_cleared', alarm: 'held_open' }, ts);
    if (this.forcedAlarm) this.emitEvent({ type: 'alarm_cleared', alarm: 'forced_open' }, ts);
    this.heldAlarm = this.forcedAlarm = false;
    const grantUsed = this.openedDuringGrant;
    this.openedDuringGrant = false;
    // The grant was used: closing the door ends it, so a second opening is not covered.
    if (grantUsed) this.authorizedUntil = Math.min(this.authorizedUntil, ts);
    if (grantUsed && !this.locked && this.cfg.relockOnClose) this.relock('door_closed');
  }

  private onButton(level: Level, ts: number): void {
    if (level !== this.cfg.exitButton.pressedLevel) return;
    this.emitEvent({ type: 'rex' }, ts);
    if (this.cfg.exitButton.unlocks) {
      this.unlock('rex', { beforeRelease: null }).catch((err: Error) => this.log.error('exit button unlock failed', { err: err.message }));
    } else {
      this.authorizedUntil = Math.max(this.authorizedUntil, ts + this.cfg.exitButton.graceMs);
    }
  }

  private clearTimer(which: 'pulseTimer' | 'heldTimer'): void {
    if (this[which] !== undefined) this.clock.clearTimeout(this[which]);
    this[which] = undefined;
  }

  private emitEvent(e: Omit<DoorEvent, 'ts'>, ts = this.clock.now()): void {
    const ev: DoorEvent = { ...e, ts };
    this.log.info(`door ${ev.type}`, { ...e });
    this.emit(ev.type, ev);
    this.emit('event', ev);
  }
}
