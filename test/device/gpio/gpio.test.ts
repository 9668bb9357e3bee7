import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { gpioConfigSchema } from '../../../device/gpio/config.ts';
import { createGpio } from '../../../device/gpio/create.ts';
import { Gpio } from 'onoff';
import { OnoffGpio, type OnoffClass, type OnoffPin } from '../../../device/gpio/onoff.ts';
import { SimulatedGpio } from '../../../device/gpio/simulated.ts';
import type { Level } from '../../../device/gpio/types.ts';

beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
afterEach(() => vi.useRealTimers());

describe('SimulatedGpio', () => {
  it('debounces a bouncing input into one event with the settled level', () => {
    const gpio = new SimulatedGpio(undefined, { 5: 1 });
    const pin = gpio.input(5, { debounceMs: 30 });
    const events: [Level, number][] = [];
    pin.onChange((l, ts) => events.push([l, ts]));
    for (const l of [0, 1, 0, 1, 0] as Level[]) {
      gpio.setInput(5, l);
      vi.advanceTimersByTime(5);
    }
    expect(events).toEqual([]);
    vi.advanceTimersByTime(30);
    expect(events).toEqual([[0, 1_000_000 + 5 * 4 + 30]]);
    expect(pin.read()).toBe(0);
  });

  it('ignores a glitch that returns to the old level', () => {
    const gpio = new SimulatedGpio();
    const pin = gpio.input(6, { debounceMs: 20 });
    const fn = vi.fn();
    pin.onChange(fn);
    gpio.setInput(6, 1);
    vi.advanceTimersByTime(3);
    gpio.setInput(6, 0);
    vi.advanceTimersByTime(100);
    expect(fn).not.toHaveBeenCalled();
  });

  it('records output levels with timestamps and refuses pin reuse', () => {
    const gpio = new SimulatedGpio();
    const out = gpio.output(17, 0);
    vi.advanceTimersByTime(10);
    out.write(1);
    out.write(1);
    vi.advanceTimersByTime(5);
    out.write(0);
    expect(gpio.outputHistory(17)).toEqual([
      { level: 0, ts: 1_000_000 },
      { level: 1, ts: 1_000_010 },
      { level: 0, ts: 1_000_015 },
    ]);
    expect(() => gpio.input(17, { debounceMs: 0 })).toThrow(/already an output/);
  });
});

function fakeOnoff(accessible = true) {
  type Rec = { gpio: number; args: unknown[]; value: Level; watchers: ((e: null, v: Level) => void)[]; unexported: boolean; writes: Level[] };
  const pins: Rec[] = [];
  const Cls = class implements OnoffPin {
    rec: Rec;
    constructor(gpio: number, direction: string, edge?: string, options?: object) {
      this.rec = { gpio, args: [direction, edge, options], value: direction === 'high' ? 1 : 0, watchers: [], unexported: false, writes: [] };
      pins.push(this.rec);
    }
    readSync() { return this.rec.value; }
    writeSync(v: Level) { this.rec.value = v; this.rec.writes.push(v); }
    watch(cb: (e: null, v: Level) => void) { this.rec.watchers.push(cb); }
    unwatchAll() { this.rec.watchers = []; }
    unexport() { this.rec.unexported = true; }
    static accessible = accessible;
  };
  return { Cls: Cls as unknown as OnoffClass, pins };
}

const sysfsDirs: string[] = [];
afterAll(() => sysfsDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A /sys/class/gpio with the given gpiochips (base, label). */
function fakeSysfs(chips: [number, string][]): string {
  const root = mkdtempSync(join(tmpdir(), 'portier-sysfs-'));
  sysfsDirs.push(root);
  for (const [base, label] of chips) {
    mkdirSync(join(root, `gpiochip${base}`));
    writeFileSync(join(root, `gpiochip${base}`, 'label'), `${label}\n`);
    writeFileSync(join(root, `gpiochip${base}`, 'base'), `${base}\n`);
  }
  return root;
}

describe('OnoffGpio', () => {
  it('fails clearly where sysfs GPIO is not accessible', () => {
    const { Cls } = fakeOnoff(false);
    expect(() => new OnoffGpio(gpioConfigSchema.parse({ type: 'onoff' }), { onoff: Cls })).toThrow(/GPIO is not accessible.*simulated/);
    // The real package, where it reports no sysfs GPIO (a build machine; on a Pi it has one).
    if (!Gpio.accessible) expect(() => createGpio(gpioConfigSchema.parse({ type: 'onoff' }))).toThrow(/not accessible/);
  });

  it('finds the sysfs base from the gpiochip label (Pi 5: pinctrl-rp1 at 571, Pi 4: pinctrl-bcm2711 at 512), not a fixed number', () => {
    const { Cls } = fakeOnoff();
    const onoff = (chips: [number, string][], cfg: object = {}) =>
      new OnoffGpio(gpioConfigSchema.parse({ type: 'onoff', ...cfg }), { onoff: Cls, sysfsRoot: fakeSysfs(chips) });
    const pi5: [number, string][] = [[512, 'gpio-brcmstb@107d508500'], [544, 'gpio-brcmstb@107d517c00'], [571, 'pinctrl-rp1']];
    expect(onoff(pi5).base).toBe(571);
    expect(onoff([[512, 'pinctrl-bcm2711'], [570, 'raspberrypi-exp-gpio']]).base).toBe(512);
    expect(onoff([[0, 'pinctrl-bcm2835']]).base).toBe(0);
    expect(onoff(pi5, { sysfsChipLabel: 'gpio-brcmstb@107d517c00' }).base).toBe(544);
    expect(onoff(pi5, { sysfsBase: 0 }).base).toBe(0);
    expect(() => onoff([[348, 'tegra234-gpio']])).toThrow(/no gpiochip labelled pinctrl-rp1 .*found: tegra234-gpio \(base 348\).*sysfsChipLabel/);
  });

  it('opens outputs glitch-free at their initial level, offsets sysfs numbers, passes debounce, unexports on close', async () => {
    const { Cls, pins } = fakeOnoff();
    const gpio = new OnoffGpio(gpioConfigSchema.parse({ type: 'onoff' }), { onoff: Cls, sysfsRoot: fakeSysfs([[571, 'pinctrl-rp1']]) });
    const relay = gpio.output(17, 1);
    const contact = gpio.input(27, { debounceMs: 40 });
    expect(pins[0]).toMatchObject({ gpio: 588, args: ['high', undefined, undefined] });
    expect(pins[1]).toMatchObject({ gpio: 598, args: ['in', 'both', { debounceTimeout: 40 }] });
    relay.write(0);
    expect(pins[0].writes).toEqual([0]);
    const seen: Level[] = [];
    contact.onChange((l) => seen.push(l));
    for (const v of [1, 1, 0] as Level[]) pins[1].watchers[0](null, v);
    expect(seen).toEqual([1, 0]);
    await gpio.close();
    expect(pins.map((p) => p.unexported)).toEqual([true, true]);
    expect(pins[1].watchers).toHaveLength(0);
  });
});
