/**
 * The character-device driver against fake libgpiod tools (fake-gpiod.ts): lines by name and by
 * chip label, bias on inputs, outputs held from their initial level, edges debounced, children
 * gone after close; and board detection refusing an implicit gpio.type on a Raspberry Pi.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../core/config/load.ts';
import type { VisionEngine } from '../../../core/vision/engine.ts';
import { deviceConfigSchema } from '../../../device/config.ts';
import { resolveGpioType, detectBoard } from '../../../device/gpio/board.ts';
import { gpioConfigSchema, gpiodConfigSchema } from '../../../device/gpio/config.ts';
import { createGpio } from '../../../device/gpio/create.ts';
import { GpiodGpio } from '../../../device/gpio/gpiod.ts';
import type { Level } from '../../../device/gpio/types.ts';
import { startDevice } from '../../../device/daemon.ts';
import { driveSafeState } from '../../../device/safe-state.ts';
import { hasModels, skipReason } from '../../helpers.ts';
import { deviceSuite, idleCamera, runDevice, tempDir, testConfig, testKeyEnv } from '../harness.ts';
import { alive, fakeGpiod, waitFor, type FakeGpiod } from './fake-gpiod.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(cfg: Record<string, unknown> = {}, fakeOpts: Parameters<typeof fakeGpiod>[0] = {}): { fake: FakeGpiod; gpio: GpiodGpio } {
  const fake = fakeGpiod(fakeOpts);
  cleanups.push(() => fake.cleanup());
  const gpio = new GpiodGpio(gpiodConfigSchema.parse({ bin: fake.bin, ...cfg }));
  cleanups.push(() => gpio.close());
  return { fake, gpio };
}

describe('GpiodGpio (libgpiod 1.x tools)', () => {
  it('refuses libgpiod 2 tools and missing tools with a message saying what to do', () => {
    const fake = fakeGpiod({ version: '2.1.1' });
    cleanups.push(() => fake.cleanup());
    expect(() => new GpiodGpio(gpiodConfigSchema.parse({ bin: fake.bin }))).toThrow(/libgpiod 2\.x tools found .*v2\.1\.1.*1\.x command line/);
    const empty = tempDir();
    cleanups.push(empty.cleanup);
    expect(() => new GpiodGpio(gpiodConfigSchema.parse({ bin: empty.dir }))).toThrow(/gpioset not found.*apt install gpiod/);
  });

  it('finds lines by name with gpiofind (GPIO<pin> when unmapped, Jetson names) and by chip label + offset', async () => {
    const { fake, gpio } = setup(
      { lines: { '17': 'PH.00', '5': { chip: 'pinctrl-rp1', offset: 5 } } },
      { names: { 'PH.00': ['gpiochip1', 43], GPIO27: ['gpiochip0', 27] } },
    );
    gpio.output(17, 0);
    gpio.output(5, 1);
    gpio.input(27, { debounceMs: 0 });
    expect(fake.calls('gpiofind')).toEqual([['PH.00'], ['GPIO27']]);
    // Holders and monitors run as children: wait for them to record their calls.
    await waitFor(() => fake.calls('gpiomon').length === 1 && fake.calls('gpioset').filter((a) => a[0] === '--mode=wait').length === 2, 15_000, 'children');
    expect(fake.calls('gpioset')).toContainEqual(['--mode=wait', 'gpiochip1', '43=0']);
    expect(fake.calls('gpioset')).toContainEqual(['--mode=exit', 'pinctrl-rp1', '5=1']);
    expect(fake.calls('gpiomon').at(-1)?.slice(-2)).toEqual(['gpiochip0', '27']);
    expect(() => gpio.output(22, 0)).toThrow(/"GPIO22" not found by gpiofind.*gpio\.gpiod\.lines/);
    expect(() => gpio.input(17, { debounceMs: 0 })).toThrow(/already open/);
  });

  it('drives an output to its initial level from the start, holds it, replaces the holder on a write, releases on close', async () => {
    const { fake, gpio } = setup();
    const relay = gpio.output(17, 1);
    // Set before output() returns, and never to the other level first.
    expect(fake.history('gpiochip0', 17)).toEqual([1]);
    await waitFor(() => alive(fake.holderPid('gpiochip0', 17)) && fake.busy('gpiochip0', 17), 15_000, 'holder');
    expect(fake.calls('gpioset').at(-1)).toEqual(['--mode=wait', 'gpiochip0', '17=1']);
    const first = fake.holderPid('gpiochip0', 17);

    relay.write(0);
    expect(fake.value('gpiochip0', 17)).toBe(0);
    expect(relay.read()).toBe(0);
    await waitFor(() => fake.holderPid('gpiochip0', 17) !== first && alive(fake.holderPid('gpiochip0', 17)), 15_000, 'new holder');
    // The old holder is told to end; on a loaded machine its exit can trail the new one's start.
    await waitFor(() => !alive(first), 15_000, 'old holder gone');
    expect(fake.calls('gpioset').at(-1)).toEqual(['--mode=wait', 'gpiochip0', '17=0']);
    const n = fake.calls('gpioset').length;
    relay.write(0);
    expect(fake.calls('gpioset')).toHaveLength(n);

    const second = fake.holderPid('gpiochip0', 17);
    relay.close();
    await waitFor(() => !alive(second) && !fake.busy('gpiochip0', 17), 15_000, 'release');
    expect(() => relay.write(1)).toThrow(/closed/);
    expect(fake.value('gpiochip0', 17)).toBe(0);
  });

  it('sets the bias on inputs, reads the initial level and delivers debounced edges', async () => {
    const { fake, gpio } = setup({ lines: { '22': { name: 'GPIO22', bias: 'pull-down' } } });
    fake.setInput('gpiochip0', 27, 1);
    const contact = gpio.input(27, { debounceMs: 40 });
    const button = gpio.input(22, { debounceMs: 0 });
    expect(contact.read()).toBe(1);
    expect(fake.calls('gpioget')).toEqual([
      ['--bias=pull-up', 'gpiochip0', '27'],
      ['--bias=pull-down', 'gpiochip0', '22'],
    ]);
    await waitFor(() => alive(fake.monitorPid('gpiochip0', 27)) && alive(fake.monitorPid('gpiochip0', 22)), 15_000, 'gpiomon');
    expect(fake.calls('gpiomon').sort((a, b) => a.at(-1)!.localeCompare(b.at(-1)!)).reverse()).toEqual([
      ['--bias=pull-up', '--line-buffered', '--format=%e %o %s %n', 'gpiochip0', '27'],
      ['--bias=pull-down', '--line-buffered', '--format=%e %o %s %n', 'gpiochip0', '22'],
    ]);
    const seen: Level[] = [];
    contact.onChange((l) => seen.push(l));
    // A bouncing contact: three edges within the debounce window settle as one change.
    fake.edges('gpiochip0', 27, [0, 1, 0]);
    await waitFor(() => seen.length > 0, 15_000, 'edge');
    await new Promise((r) => setTimeout(r, 150));
    expect(seen).toEqual([0]);
    expect(contact.read()).toBe(0);
    fake.edges('gpiochip0', 27, [1]);
    await waitFor(() => seen.length === 2, 15_000, 'second edge');
    expect(seen).toEqual([0, 1]);

    const pressed: Level[] = [];
    button.onChange((l) => pressed.push(l));
    fake.edges('gpiochip0', 22, [1]);
    await waitFor(() => pressed.length === 1, 15_000, 'button');
  });

  it('passes no bias flag for as-is and refuses a bias the 1.4 tools cannot set', () => {
    const { fake, gpio } = setup({ bias: 'as-is' });
    gpio.input(27, { debounceMs: 0 });
    expect(fake.calls('gpioget')).toEqual([['gpiochip0', '27']]);
    const old = setup({}, { version: '1.4.1' });
    expect(() => old.gpio.input(27, { debounceMs: 0 })).toThrow(/cannot set a bias.*as-is/);
  });

  it('close ends every holder and monitor and releases the lines', async () => {
    const { fake, gpio } = setup();
    gpio.output(17, 0);
    gpio.input(27, { debounceMs: 10 });
    gpio.input(22, { debounceMs: 10 });
    await waitFor(() => [fake.holderPid('gpiochip0', 17), fake.monitorPid('gpiochip0', 27), fake.monitorPid('gpiochip0', 22)].every(alive), 15_000, 'children');
    const pids = [fake.holderPid('gpiochip0', 17), fake.monitorPid('gpiochip0', 27), fake.monitorPid('gpiochip0', 22)];
    await gpio.close();
    expect(pids.map(alive)).toEqual([false, false, false]);
    for (const off of [17, 27, 22]) expect(fake.busy('gpiochip0', off)).toBe(false);
  });

  it('restarts a monitor that died, reading the level again', async () => {
    const { fake, gpio } = setup();
    const contact = gpio.input(27, { debounceMs: 0 });
    const seen: Level[] = [];
    contact.onChange((l) => seen.push(l));
    await waitFor(() => alive(fake.monitorPid('gpiochip0', 27)), 15_000, 'gpiomon');
    const first = fake.monitorPid('gpiochip0', 27)!;
    process.kill(first, 'SIGKILL');
    fake.setInput('gpiochip0', 27, 1); // changed while nobody watched
    await waitFor(() => fake.monitorPid('gpiochip0', 27) !== first && alive(fake.monitorPid('gpiochip0', 27)), 4000, 'restarted gpiomon');
    expect(seen).toEqual([1]);
    expect(fake.calls('gpioget')).toHaveLength(2);
  });
});

describe('children that fail to spawn (ENOENT, EAGAIN, EMFILE: \'error\' and \'close\', never \'exit\')', () => {
  /** The next `count` holders or monitors fail to spawn, as a missing tool or exhausted process table makes them. */
  function failSpawns(gpio: GpiodGpio, fake: FakeGpiod, tool: 'hold' | 'monitor', count = 1): { failed: () => number } {
    let failed = 0;
    const tools = gpio.tools as unknown as Record<typeof tool, (...args: unknown[]) => ChildProcess>;
    const real = tools[tool].bind(gpio.tools);
    tools[tool] = (...args) => {
      if (failed >= count) return real(...args);
      failed++;
      return spawn(join(fake.bin, 'no-such-tool'), [], { stdio: ['pipe', 'pipe', 'pipe'] });
    };
    return { failed: () => failed };
  }

  it('restarts a relay holder that never started, and a write of the same level is not skipped meanwhile', async () => {
    const { fake, gpio } = setup();
    failSpawns(gpio, fake, 'hold', 2);
    const relay = gpio.output(17, 1);
    expect(gpio.healthy()).toBe(false);
    await new Promise((r) => setTimeout(r, 100)); // 'error' and 'close' have come
    expect(gpio.healthy()).toBe(false);
    const sets = fake.calls('gpioset').length;
    // The failed holder is not taken for a running one: the level is set again.
    relay.write(1);
    expect(fake.calls('gpioset').length).toBe(sets + 1);
    expect(fake.calls('gpioset').at(-1)).toEqual(['--mode=exit', 'gpiochip0', '17=1']);
    // That holder failed too; the next restart (a second later) starts a real one.
    await waitFor(() => alive(fake.holderPid('gpiochip0', 17)) && gpio.healthy(), 15_000, 'restarted holder');
    expect(fake.calls('gpioset').at(-1)).toEqual(['--mode=wait', 'gpiochip0', '17=1']);
  });

  it('restarts a monitor that never started, reading the level first; healthy() follows', async () => {
    const { fake, gpio } = setup();
    expect(gpio.healthy()).toBe(true);
    failSpawns(gpio, fake, 'monitor');
    const contact = gpio.input(27, { debounceMs: 0 });
    const seen: Level[] = [];
    contact.onChange((l) => seen.push(l));
    fake.setInput('gpiochip0', 27, 1);
    await waitFor(() => alive(fake.monitorPid('gpiochip0', 27)), 15_000, 'restarted gpiomon');
    expect(gpio.healthy()).toBe(true);
    expect(seen).toEqual([1]);
    // A monitor killed later is unhealthy until its restart.
    process.kill(fake.monitorPid('gpiochip0', 27)!, 'SIGKILL');
    await waitFor(() => !gpio.healthy(), 15_000, 'unhealthy');
    await waitFor(() => gpio.healthy(), 15_000, 'healthy again');
  });
});

describe('safe state on the gpiod driver', () => {
  it('ExecStopPost drives the de-energised level and leaves no holder behind', async () => {
    const fake = fakeGpiod();
    cleanups.push(() => fake.cleanup());
    const config = parseConfig(deviceConfigSchema, { gpio: { type: 'gpiod', gpiod: { bin: fake.bin } }, door: { failMode: 'safe', relay: { pin: 17 } } });
    expect(await driveSafeState(config, new GpiodGpio(config.gpio.gpiod))).toBe(0);
    expect(fake.history('gpiochip0', 17)).toEqual([0, 0]);
    expect(fake.busy('gpiochip0', 17)).toBe(false);
    expect(alive(fake.holderPid('gpiochip0', 17))).toBe(false);
  });
});

describe('board detection', () => {
  const model = (text: string) => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const file = join(t.dir, 'model');
    writeFileSync(file, text + '\0');
    return file;
  };

  it('refuses an unset gpio.type on a Raspberry Pi or Jetson, accepts it off-board', () => {
    const pi = model('Raspberry Pi 5 Model B Rev 1.0');
    expect(detectBoard(pi)).toEqual({ kind: 'raspberry-pi', model: 'Raspberry Pi 5 Model B Rev 1.0' });
    const unset = gpioConfigSchema.parse({ boardModelFile: pi });
    expect(unset.type).toBeUndefined();
    expect(() => resolveGpioType(unset)).toThrow(/gpio\.type is not set and this is a Raspberry Pi 5 Model B Rev 1\.0.*"type": "gpiod"/);
    expect(() => createGpio(unset)).toThrow(/gpio\.type is not set/);
    expect(() => resolveGpioType(gpioConfigSchema.parse({ boardModelFile: model('NVIDIA Jetson Orin Nano Developer Kit') }))).toThrow(/Jetson.*gpiod.*lines/);
    expect(resolveGpioType(gpioConfigSchema.parse({ type: 'gpiod', boardModelFile: pi }))).toBe('gpiod');
    expect(resolveGpioType(gpioConfigSchema.parse({ type: 'simulated', boardModelFile: pi }))).toBe('simulated');

    const t = tempDir();
    cleanups.push(t.cleanup);
    const offBoard = gpioConfigSchema.parse({ boardModelFile: join(t.dir, 'missing') });
    expect(resolveGpioType(offBoard)).toBe('simulated');
    expect(createGpio(offBoard).kind).toBe('simulated');
    expect(resolveGpioType(gpioConfigSchema.parse({ boardModelFile: model('QEMU Virt Machine') }))).toBe('simulated');
  });

  it('recognises third-party carriers from the device-tree compatible list', () => {
    const board = (modelText: string | null, compatible: string[] | null) => {
      const t = tempDir();
      cleanups.push(t.cleanup);
      if (modelText !== null) writeFileSync(join(t.dir, 'model'), modelText + '\0');
      if (compatible) writeFileSync(join(t.dir, 'compatible'), compatible.map((c) => c + '\0').join(''));
      return join(t.dir, 'model');
    };
    const jetson = board('Seeed reComputer J4012', ['seeed,recomputer-j4012', 'nvidia,p3767-0000', 'nvidia,tegra234']);
    expect(detectBoard(jetson)).toEqual({ kind: 'jetson', model: 'Seeed reComputer J4012' });
    expect(() => resolveGpioType(gpioConfigSchema.parse({ boardModelFile: jetson }))).toThrow(/gpio\.type is not set and this is a Seeed reComputer J4012/);
    expect(detectBoard(board('Acme CM4 carrier', ['acme,cm4-carrier', 'raspberrypi,4-compute-module', 'brcm,bcm2711']))?.kind).toBe('raspberry-pi');
    expect(detectBoard(board('Acme industrial CM5', ['acme,cm5', 'brcm,bcm2712']))?.kind).toBe('raspberry-pi');
    expect(detectBoard(board('Acme router', ['acme,router', 'brcm,bcm4908']))).toBeNull();
    expect(detectBoard(board('Acme industrial CM3', ['acme,cm3', 'brcm,bcm2837']))?.kind).toBe('raspberry-pi');
    expect(detectBoard(board(null, ['nvidia,p3737-0000+p3701-0000', 'nvidia,tegra234']))).toEqual({ kind: 'jetson', model: 'nvidia,p3737-0000+p3701-0000' });
    expect(detectBoard(board('QEMU Virt Machine', ['linux,dummy-virt']))).toBeNull();
  });

  it('stops the daemon start on a Pi whose config has no gpio section', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const config = testConfig(t.dir, { gpio: { type: undefined, boardModelFile: model('Raspberry Pi 5 Model B Rev 1.0') } });
    // The start fails before the engine is used, so a stand-in does.
    await expect(startDevice(config, { engine: {} as VisionEngine, env: { ...process.env, ...testKeyEnv } })).rejects.toThrow(/gpio\.type is not set/);
  });
});

describe.skipIf(skipReason(hasModels, 'models/ missing'))('device on the gpiod driver', () => {
  const suite = deviceSuite();

  it('holds the relay locked, opens it on the exit button, says which driver runs in /state and /metrics', async () => {
    const fake = fakeGpiod();
    cleanups.push(() => fake.cleanup());
    fake.setInput('gpiochip0', 22, 1); // exit button released (pressed = 0, pull-up)
    const dir = suite.dir();
    const device = await runDevice(
      testConfig(dir, { gpio: { type: 'gpiod', gpiod: { bin: fake.bin } }, http: { enabled: true, port: 0 }, door: { unlockMs: 300 }, ...idleCamera(dir) }),
      suite.engine(),
    );
    let stopped = false;
    cleanups.push(() => (stopped ? undefined : device.stop()));
    const base = `http://${device.http!.host}:${device.http!.port}`;
    expect((await (await fetch(`${base}/state`)).json()).gpio).toBe('gpiod');
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^portier_gpio_driver\{type="gpiod"\} 1$/m);
    expect(fake.value('gpiochip0', 17)).toBe(0);
    await waitFor(() => alive(fake.holderPid('gpiochip0', 17)) && alive(fake.monitorPid('gpiochip0', 22)), 15_000, 'relay holder and button monitor');

    fake.edges('gpiochip0', 22, [0]);
    await new Promise((r) => setTimeout(r, 100));
    fake.edges('gpiochip0', 22, [1]);
    await waitFor(() => fake.value('gpiochip0', 17) === 1, 15_000, 'relay released by the exit button');
    await waitFor(() => fake.value('gpiochip0', 17) === 0, 15_000, 'relock');

    const pids = [fake.holderPid('gpiochip0', 17), fake.monitorPid('gpiochip0', 22), fake.monitorPid('gpiochip0', 27)];
    await device.stop();
    stopped = true;
    await waitFor(() => !pids.some(alive), 15_000, 'children gone');
    expect(fake.value('gpiochip0', 17)).toBe(0);
  });
});
