import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { doorConfigSchema, type DoorConfig } from '../../../device/door/config.ts';
import { Door, type DoorEvent } from '../../../device/door/door.ts';
import { relayLevels } from '../../../device/door/levels.ts';
import { closeDoor, idleInputs, openDoor, pressExitButton } from '../../../device/door/simulate.ts';
import { SimulatedGpio } from '../../../device/gpio/simulated.ts';

const T0 = 1_700_000_000_000;
beforeEach(() => vi.useFakeTimers({ now: T0 }));
afterEach(() => vi.useRealTimers());

const doors: Door[] = [];
afterEach(async () => {
  for (const d of doors.splice(0)) await d.stop();
});

async function setup(over: Record<string, unknown> = {}, deps: Partial<ConstructorParameters<typeof Door>[1]> = {}) {
  const cfg: DoorConfig = doorConfigSchema.parse({ unlockMs: 5000, heldOpenMs: 20_000, ...over });
  const gpio = new SimulatedGpio(undefined, idleInputs(cfg));
  const door = new Door(cfg, { gpio, crashGuard: false, ...deps });
  doors.push(door);
  const events: DoorEvent[] = [];
  door.on('event', (e: DoorEvent) => events.push(e));
  await door.start();
  const relay = () => gpio.outputLevel(cfg.relay.pin);
  const types = () => events.map((e) => e.type);
  return { cfg, gpio, door, events, relay, types };
}
const settle = (ms = 60) => vi.advanceTimersByTime(ms); // past the 50 ms debounce

describe('Door', () => {
  it('pulses the relay for unlockMs, then relocks', async () => {
    const { door, relay, events } = await setup();
    expect(relay()).toBe(0);
    await door.unlock('face:alice');
    expect(relay()).toBe(1);
    vi.advanceTimersByTime(4999);
    expect(relay()).toBe(1);
    vi.advanceTimersByTime(1);
    expect(relay()).toBe(0);
    expect(events.map((e) => [e.type, e.reason, e.ts - T0])).toEqual([
      ['unlocked', 'face:alice', 0],
      ['relocked', 'timeout', 5000],
    ]);
    expect(events[0].until).toBe(T0 + 5000);
  });

  it('makes the event durable before the relay is released, and refuses when it cannot', async () => {
    const { door, relay, gpio, cfg } = await setup();
    const order: string[] = [];
    await door.unlock('face:bob', {
      beforeRelease: async () => {
        order.push(`hook relay=${relay()}`);
      },
    });
    order.push(`after relay=${relay()}`);
    expect(order).toEqual(['hook relay=0', 'after relay=1']);
    door.lock();
    await expect(door.unlock('face:eve', { beforeRelease: () => Promise.reject(new Error('disk full')) })).rejects.toThrow('disk full');
    expect(relay()).toBe(0);
    expect(gpio.outputHistory(cfg.relay.pin).map((h) => h.level)).toEqual([0, 1, 0]);
  });

  it('relocks early when the door closes after opening', async () => {
    const { door, gpio, cfg, relay, types } = await setup();
    await door.unlock('face:alice');
    vi.advanceTimersByTime(1000);
    openDoor(gpio, cfg);
    settle();
    expect(relay()).toBe(1);
    vi.advanceTimersByTime(1000);
    closeDoor(gpio, cfg);
    settle();
    expect(relay()).toBe(0);
    expect(types()).toEqual(['unlocked', 'opened', 'closed', 'relocked']);
    expect(door.state).toMatchObject({ locked: true, open: false });
    vi.advanceTimersByTime(10_000);
    expect(types()).toHaveLength(4); // the pulse timer was cancelled
  });

  it('raises held-open after an authorised opening and clears it on close', async () => {
    const { door, gpio, cfg, events, types } = await setup();
    await door.unlock('face:alice');
    openDoor(gpio, cfg);
    settle(50);
    vi.advanceTimersByTime(19_999);
    expect(types()).not.toContain('held_open_alarm');
    vi.advanceTimersByTime(1);
    expect(types()).toEqual(['unlocked', 'opened', 'relocked', 'held_open_alarm']);
    expect(events.find((e) => e.type === 'opened')!.authorized).toBe(true);
    expect(door.state.heldOpenAlarm).toBe(true);
    closeDoor(gpio, cfg);
    settle();
    expect(types().slice(-2)).toEqual(['closed', 'alarm_cleared']);
    expect(door.state.heldOpenAlarm).toBe(false);
  });

  it('raises forced-open when the door opens while locked without a grant', async () => {
    const { gpio, cfg, events, types, door } = await setup();
    openDoor(gpio, cfg);
    settle();
    expect(types()).toEqual(['opened', 'forced_open_alarm']);
    expect(events[0].authorized).toBe(false);
    vi.advanceTimersByTime(60_000);
    expect(types()).not.toContain('held_open_alarm');
    closeDoor(gpio, cfg);
    settle();
    expect(events.at(-1)).toMatchObject({ type: 'alarm_cleared', alarm: 'forced_open' });
    expect(door.state.forcedOpenAlarm).toBe(false);
  });

  it('an opening after the grant was used and the door relocked is forced', async () => {
    const { door, gpio, cfg, types } = await setup();
    await door.unlock('face:alice');
    openDoor(gpio, cfg);
    settle();
    closeDoor(gpio, cfg);
    settle();
    openDoor(gpio, cfg);
    settle();
    expect(types()).toEqual(['unlocked', 'opened', 'closed', 'relocked', 'opened', 'forced_open_alarm']);
  });

  it('without relockOnClose the lock stays released for the whole pulse', async () => {
    const { door, gpio, cfg, types, events, relay } = await setup({ relockOnClose: false });
    await door.unlock('face:alice');
    openDoor(gpio, cfg);
    settle();
    closeDoor(gpio, cfg);
    settle();
    expect(relay()).toBe(1);
    openDoor(gpio, cfg);
    settle();
    expect(types()).toEqual(['unlocked', 'opened', 'closed', 'opened']);
    expect(events.at(-1)!.authorized).toBe(true); // the strike was released: not forced
  });

  it('the exit button opens at once, without recognition and without waiting for any record', async () => {
    const reasons: string[] = [];
    // A durability hook that never finishes (a hung or full disk) must not hold the way out.
    const { gpio, cfg, relay, types } = await setup({}, { beforeRelease: (r) => (reasons.push(r), new Promise<void>(() => undefined)) });
    pressExitButton(gpio, cfg, 200);
    settle();
    await vi.advanceTimersByTimeAsync(0);
    expect(relay()).toBe(1);
    expect(reasons).toEqual([]);
    openDoor(gpio, cfg);
    settle();
    expect(types()).toEqual(['rex', 'unlocked', 'opened']);
    vi.advanceTimersByTime(1000);
    expect(types().filter((t) => t === 'rex')).toHaveLength(1); // release is not a second press
  });

  it('a relay that refuses the relock write never throws from the timer: relay_fault, then a retry locks', async () => {
    const { door, gpio, cfg, types } = await setup();
    await door.unlock('face:alice');
    // The GPIO layer fails the next write (a busy or vanished helper), then recovers.
    const relay = (door as unknown as { relay: { write: (l: 0 | 1) => void } }).relay;
    const real = relay.write.bind(relay);
    let failures = 1;
    relay.write = (l) => {
      if (failures-- > 0) throw new Error('line busy');
      real(l);
    };
    expect(() => vi.advanceTimersByTime(5000)).not.toThrow();
    expect(types()).toContain('relay_fault');
    expect(door.state.locked).toBe(false);
    vi.advanceTimersByTime(1000);
    expect(door.state.locked).toBe(true);
    expect(gpio.outputLevel(cfg.relay.pin)).toBe(relayLevels(cfg).locked);
    expect(types().at(-1)).toBe('relocked');
  });

  it('with mechanical egress the exit button only authorises the opening', async () => {
    const { gpio, cfg, relay, types } = await setup({ exitButton: { unlocks: false, graceMs: 3000 } });
    pressExitButton(gpio, cfg);
    settle();
    vi.advanceTimersByTime(1000);
    openDoor(gpio, cfg);
    settle();
    expect(relay()).toBe(0);
    expect(types()).toEqual(['rex', 'opened']);
  });

  it('a bouncing contact gives one opened event', async () => {
    const { gpio, cfg, door, types } = await setup();
    await door.unlock('face:alice');
    for (let i = 0; i < 7; i++) {
      gpio.setInput(cfg.contact.pin, (i % 2 === 0 ? 1 : 0) as 0 | 1);
      vi.advanceTimersByTime(4);
    }
    settle();
    expect(types()).toEqual(['unlocked', 'opened']);
  });

  it('inverts the relay for active-low boards', async () => {
    const { door, relay } = await setup({ relay: { activeLow: true } });
    expect(relay()).toBe(1);
    await door.unlock('x');
    expect(relay()).toBe(0);
    vi.advanceTimersByTime(5000);
    expect(relay()).toBe(1);
  });

  it('rejects unlock when stopped', async () => {
    const { door } = await setup();
    await door.stop();
    await expect(door.unlock('x')).rejects.toThrow(/not started/);
  });
});

describe('fail-secure and fail-safe relay levels', () => {
  const cases = [
    { failMode: 'secure', activeLow: false, start: 0, unlocked: 1, stop: 0, lockedAfterStop: true },
    { failMode: 'secure', activeLow: true, start: 1, unlocked: 0, stop: 1, lockedAfterStop: true },
    { failMode: 'safe', activeLow: false, start: 1, unlocked: 0, stop: 0, lockedAfterStop: false },
    { failMode: 'safe', activeLow: true, start: 0, unlocked: 1, stop: 1, lockedAfterStop: false },
  ] as const;
  for (const c of cases) {
    it(`${c.failMode}, activeLow=${c.activeLow}: start ${c.start}, unlocked ${c.unlocked}, stop ${c.stop}`, async () => {
      const { door, relay, cfg, gpio } = await setup({ failMode: c.failMode, relay: { activeLow: c.activeLow } });
      expect(gpio.outputHistory(cfg.relay.pin)[0].level).toBe(c.start); // no glitch at start
      await door.unlock('x');
      expect(relay()).toBe(c.unlocked);
      await door.stop();
      expect(relay()).toBe(c.stop);
      expect(door.state.locked).toBe(c.lockedAfterStop);
      // What a crash leaves: the de-energised level, which is the stop level.
      expect(relayLevels(cfg).deenergised).toBe(c.stop);
    });
  }

  it('the crash guard drives the de-energised level when the process exits', async () => {
    const { relay, door } = await setup({ failMode: 'secure' }, { crashGuard: true });
    await door.unlock('x');
    expect(relay()).toBe(1);
    process.emit('exit', 1);
    expect(relay()).toBe(0);
    await door.stop();
    expect(process.listeners('exit').length).toBeLessThan(100);
  });
});
