/**
 * The admin web UI in a real browser (Debian's headless Chromium through playwright-core): a
 * gateway and one simulated door, driven the way an admin would. First-run password, log out
 * and in, a person created with the default schedule, two photos uploaded (one accepted, one
 * refused for two faces), the person reaching the door, a granted decision appearing live in
 * the audit view, a remote unlock with a reason, and a viewer who sees no unlock button and
 * whose own unlock request is refused. Along the way: every form control has a name, Tab alone
 * reaches the enrol and unlock actions, nothing scrolls sideways on a phone, and the console
 * stays clean. Controls are found by the accessible names in the UI's contract, as a screen
 * reader would find them.
 *
 * Screenshots of the people page, the enrolment dialog and the live audit view go to a temp
 * folder, or to $PORTIER_SCREENSHOTS_DIR (`npm run screenshots` writes docs/screenshots/).
 */
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, ConsoleMessage, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { VisionEngine } from '../../core/vision/engine.ts';
import type { SimulatedGpio } from '../../device/gpio/simulated.ts';
import type { Gateway } from '../../gateway/gateway.ts';
import { fixture, hasModels, makeEngine, skipReason } from '../helpers.ts';
import { hasChromium, launchChromium } from './browser.ts';
import { ALL_WEEK, ApiClient, startJoinedDevice, startTestGateway, tempDir, waitFor, type JoinedDevice } from './helpers.ts';

const ADMIN = { username: 'admin', password: 'correct horse battery staple' };
const VIEWER = { username: 'lobby', password: 'a viewer password 42' };
const DEVICE = 'door-a';
const DOOR = { id: 'front', name: 'Front door' };
const SLOW = 30_000; // generous for 2 slow cores: enrolment and recognition run on the same CPUs

const skip = skipReason(hasModels, 'models/ missing (npm install fetches them)') || skipReason(hasChromium, 'no system chromium (apt-get install chromium)');

describe.skipIf(skip)('admin web UI in headless Chromium', () => {
  let engine: VisionEngine;
  let gw: Gateway;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let door: JoinedDevice | undefined;
  const cleanups: (() => void)[] = [];
  const dir = (p: string) => {
    const t = tempDir(p);
    cleanups.push(t.cleanup);
    return t.dir;
  };
  const consoleErrors: string[] = [];
  let shotDir = '';

  beforeAll(async () => {
    // Kept after the run (not cleaned up) so the pictures can be looked at; the path is printed.
    shotDir = process.env.PORTIER_SCREENSHOTS_DIR ? resolve(process.env.PORTIER_SCREENSHOTS_DIR) : mkdtempSync(join(tmpdir(), 'portier-ui-shots-'));
    mkdirSync(shotDir, { recursive: true });
    [engine, browser] = await Promise.all([makeEngine(), launchChromium()]);
    gw = await startTestGateway(dir('portier-gw-'), engine);
    context = await browser.newContext({ baseURL: gw.http.url, viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
    context.setDefaultTimeout(SLOW);
    const watch = (p: Page) => {
      p.on('console', (m: ConsoleMessage) => {
        if (m.type() === 'error') consoleErrors.push(`${m.text()} @ ${m.location().url}`);
      });
      p.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
    };
    context.on('page', watch);
    page = await context.newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await door?.device.stop();
    await gw?.stop();
    await engine?.close();
    cleanups.forEach((c) => c());
  });

  const relayPulses = (d: JoinedDevice) => (d.device.gpio as SimulatedGpio).outputHistory(d.device.config.door.relay.pin).filter((h) => h.level === 1).length;
  const relayLevel = (d: JoinedDevice) => (d.device.gpio as SimulatedGpio).outputHistory(d.device.config.door.relay.pin).at(-1)?.level;
  const shot = (name: string) => page.screenshot({ path: join(shotDir, `${name}.png`) });
  const heading = (name: string) => page.getByRole('heading', { level: 1, name, exact: true });
  const gotoNav = async (label: string, h1: string) => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label, exact: true }).click();
    await heading(h1).waitFor();
  };

  /** Every form control on the page has a name (<label for>, aria-label or aria-labelledby); at least `min` controls. */
  const expectAllNamed = async (where: string, min = 1) => {
    const { count, unnamed } = await page.evaluate(() => {
      const controls = [...document.querySelectorAll('input, select, textarea')].filter((el) => (el as HTMLInputElement).type !== 'hidden');
      const unnamed = controls.filter((el) => !((el as HTMLInputElement).labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')));
      return { count: controls.length, unnamed: unnamed.map((el) => el.outerHTML.slice(0, 160)) };
    });
    expect(unnamed, `controls without a label on ${where}`).toEqual([]);
    expect(count, `form controls on ${where}`).toBeGreaterThanOrEqual(min);
  };

  /** Press Tab (only Tab) from where focus is until `name` has focus; the number of presses. */
  const tabTo = async (role: 'button' | 'link', name: string, max = 120): Promise<number> => {
    const target = page.getByRole(role, { name, exact: true });
    await target.waitFor();
    for (let i = 1; i <= max; i++) {
      await page.keyboard.press('Tab');
      if (await target.evaluate((el) => el === document.activeElement)) return i;
    }
    const at = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120));
    throw new Error(`${max} Tab presses never reached ${role} "${name}" (focus ends on ${at})`);
  };

  /** True when the page scrolls sideways at the current viewport. */
  const scrollsSideways = () => page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);

  const login = async (who: { username: string; password: string }) => {
    await heading('Log in to Portier').waitFor();
    await page.getByLabel('User name', { exact: true }).fill(who.username);
    await page.getByLabel('Password', { exact: true }).fill(who.password);
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await heading('People').waitFor();
  };
  const logout = async () => {
    await page.getByRole('button', { name: 'Log out', exact: true }).click();
    await heading('Log in to Portier').waitFor();
  };

  it('first run, people and enrolment, live audit, remote unlock, viewer role; labelled, keyboard-usable, phone-sized, no console errors', async () => {
    const t0 = Date.now();
    onTestFailed(async () => {
      const path = join(mkdtempSync(join(tmpdir(), 'portier-ui-failure-')), 'failure.png');
      await page.screenshot({ path, fullPage: true }).catch(() => undefined);
      console.log(`ui: the page when the test failed: ${path}; console errors: ${JSON.stringify(consoleErrors)}`);
    });
    const step = (what: string) => console.log(`ui: ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // First run: the one-time link the gateway prints, then log out and in again.
    await page.goto(`/setup?token=${encodeURIComponent(gw.auth.setupToken()!)}`);
    await heading('Set up Portier').waitFor();
    await expectAllNamed('the setup page');
    await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
    await page.getByLabel('Repeat password', { exact: true }).fill(ADMIN.password);
    await page.getByRole('button', { name: 'Create admin account', exact: true }).click();
    await heading('People').waitFor();
    expect(gw.auth.setupToken(), 'the setup token is spent').toBeFalsy();
    await logout();
    await expectAllNamed('the login page');
    await login(ADMIN);
    step('admin set up, logged out and in');

    // One door with its device, provisioned and joined through the API.
    const api = new ApiClient(gw.http.url);
    expect(await api.login(ADMIN.username, ADMIN.password)).toBe(200);
    expect((await api.call('POST', '/api/doors', DOOR)).status).toBe(201);
    door = await startJoinedDevice(api, engine, { id: DEVICE, door: DOOR.id, dir: dir('portier-door-') });
    await waitFor('first snapshot confirmed', () => gw.store.devices.get(DEVICE)?.signPublicKey && !gw.store.devices.get(DEVICE)!.snapshotRequired, SLOW);
    step('device joined');

    // People: create Grace Hopper with the default schedule (every door, every day, all day).
    await expectAllNamed('the people page');
    await page.getByRole('button', { name: 'Add person', exact: true }).click();
    const newPerson = page.getByRole('dialog', { name: 'New person' });
    await newPerson.waitFor();
    expect(await newPerson.evaluate((d) => d.matches('dialog:modal'))).toBe(true);
    await expectAllNamed('the new person dialog');
    await newPerson.getByLabel('Name', { exact: true }).fill('Grace Hopper');
    for (const day of ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']) expect(await newPerson.getByLabel(day, { exact: true }).isChecked(), day).toBe(true);
    expect(await newPerson.getByLabel('From', { exact: true }).inputValue()).toBe('00:00');
    expect(await newPerson.getByLabel('To', { exact: true }).inputValue()).toBe('24:00');
    await newPerson.getByRole('button', { name: 'Save', exact: true }).click();
    await newPerson.waitFor({ state: 'detached' });
    await page.getByRole('row').filter({ hasText: 'Grace Hopper' }).waitFor();
    const listed = await api.call('GET', '/api/people?q=Grace');
    expect(listed.body.items).toHaveLength(1);
    const grace = listed.body.items[0] as { id: string; schedules: unknown };
    expect(grace.schedules).toEqual(ALL_WEEK);
    step('person created');

    // Enrol: one good portrait and one with two faces (both fixture portraits side by side).
    const twoFaces = join(dir('portier-ui-photos-'), 'two-faces.jpg');
    await sharp({ create: { width: 1024, height: 512, channels: 3, background: '#ffffff' } })
      .composite([
        { input: fixture('grace_hopper.jpg'), left: 0, top: 0 },
        { input: fixture('astronaut_eileen_collins.png'), left: 512, top: 0 },
      ])
      .jpeg({ quality: 90 })
      .toFile(twoFaces);
    await page.getByRole('button', { name: 'Enrol photos for Grace Hopper', exact: true }).click();
    const enrol = page.getByRole('dialog', { name: 'Enrol Grace Hopper' });
    await enrol.waitFor();
    expect(await enrol.evaluate((d) => d.matches('dialog:modal'))).toBe(true);
    await expectAllNamed('the enrolment dialog');
    await enrol.getByLabel('Photos', { exact: true }).setInputFiles([fixture('grace_hopper.jpg'), twoFaces]);
    await enrol.getByRole('button', { name: 'Upload', exact: true }).click();
    const results = enrol.getByRole('list', { name: 'Photo results' });
    const accepted = results.getByRole('listitem').filter({ hasText: /Accepted/ });
    const refused = results.getByRole('listitem').filter({ hasText: 'Refused: two or more faces' });
    await waitFor('both verdicts', async () => (await accepted.count()) === 1 && (await refused.count()) === 1, SLOW, 100).catch(async (err) => {
      throw new Error(`${(err as Error).message}; photo results: ${JSON.stringify(await results.getByRole('listitem').allInnerTexts())}`);
    });
    expect(await results.getByRole('listitem').count()).toBe(2);
    // Each photo is shown with its face box drawn over it.
    expect(await accepted.locator('img').count()).toBe(1);
    expect(await accepted.locator('svg rect').count()).toBeGreaterThanOrEqual(1);
    await page.evaluate(() => Promise.all([...document.querySelectorAll('img')].map((i) => i.decode().catch(() => undefined))));
    await shot('enrolment');
    await enrol.getByRole('button', { name: 'Close', exact: true }).click();
    await enrol.waitFor({ state: 'detached' });
    step('photos enrolled');

    // The person reaches the door; the devices page shows a gallery of one.
    await waitFor('Grace in the door gallery', () => door!.device.gallery.has(grace.id), SLOW);
    await waitFor('gallery size reported to the gateway', async () => (await api.call('GET', `/api/devices/${DEVICE}`)).body?.gallerySize === 1, SLOW);
    await page.getByRole('row').filter({ hasText: 'Grace Hopper' }).waitFor();
    await shot('people');
    await gotoNav('Doors & devices', 'Doors & devices');
    const deviceRow = page.getByRole('row').filter({ hasText: DEVICE });
    await deviceRow.waitFor();
    const galleryCell = async () => {
      const col = await page.getByRole('columnheader').evaluateAll((ths) => ths.findIndex((th) => /gallery/i.test(th.textContent ?? '')));
      expect(col, 'a "gallery" column').toBeGreaterThanOrEqual(0);
      return (await deviceRow.getByRole('cell').nth(col).innerText()).trim();
    };
    expect(await galleryCell()).toMatch(/^1\b/);
    expect(await deviceRow.innerText()).toContain('Online');
    await expectAllNamed('the devices page', 0);
    step('person on the device, devices page checked');

    // Live audit: her face at the door shows up as Granted without a reload.
    const streamOpen = page.waitForResponse((r) => r.url().includes('/api/audit/stream'), { timeout: SLOW });
    await gotoNav('Audit', 'Audit');
    await streamOpen;
    await expectAllNamed('the audit page');
    const live = page.locator('[aria-label="Live decisions"]');
    expect(await live.getAttribute('aria-live')).toBe('polite');
    expect(await live.getByText(/Granted/).count(), 'no grant before her face is shown').toBe(0);
    await page.evaluate(() => ((window as unknown as { noReload: boolean }).noReload = true));
    const photo = readFileSync(fixture('grace_hopper.jpg'));
    let granted = false;
    const onDecision = (d: { granted: boolean; personId?: string | null }) => {
      if (d.granted && d.personId === grace.id) granted = true;
    };
    door.device.on('decision', onDecision);
    const feedUntil = Date.now() + SLOW;
    while (!granted && Date.now() < feedUntil) await door.camera.play(photo, 1, 10);
    door.device.off('decision', onDecision);
    expect(granted, 'the door granted Grace').toBe(true);
    await live.getByText(/Granted/).first().waitFor();
    const entry = live.locator(':scope > *').filter({ hasText: /Granted/ }).filter({ hasText: 'Grace Hopper' });
    await entry.first().waitFor();
    expect(await page.evaluate(() => (window as unknown as { noReload?: boolean }).noReload)).toBe(true);
    await shot('audit');
    step('granted decision live in the audit view');

    // Phone-sized screen: no sideways scrolling on the people and audit pages.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await scrollsSideways(), 'audit page scrolls sideways at 390 px').toBe(false);
    await gotoNav('People', 'People');
    await page.getByRole('row').filter({ hasText: 'Grace Hopper' }).waitFor();
    expect(await scrollsSideways(), 'people page scrolls sideways at 390 px').toBe(false);
    await page.setViewportSize({ width: 1280, height: 800 });

    // Keyboard alone, from the top of a freshly loaded page: Tab reaches enrol, then unlock.
    await page.goto('/people');
    await page.getByRole('button', { name: 'Enrol photos for Grace Hopper', exact: true }).waitFor();
    const tabsToEnrol = await tabTo('button', 'Enrol photos for Grace Hopper');
    await page.goto('/devices');
    await page.getByRole('row').filter({ hasText: DEVICE }).waitFor();
    const tabsToUnlock = await tabTo('button', `Unlock ${DEVICE}`);
    console.log(`ui: Tab reaches "Enrol photos for Grace Hopper" in ${tabsToEnrol}, "Unlock ${DEVICE}" in ${tabsToUnlock} presses`);

    // Remote unlock, still by keyboard: Enter opens the confirmation, which asks for a reason.
    // Her grant keeps the lock released for door.unlockMs; wait for it to close so the remote
    // unlock shows as a new pulse of the relay.
    await waitFor('lock closed after the grant', () => relayLevel(door!) === 0, SLOW, 50);
    const pulses = relayPulses(door);
    await page.keyboard.press('Enter');
    const unlock = page.getByRole('dialog', { name: `Unlock ${DOOR.name}` });
    await unlock.waitFor();
    expect(await unlock.evaluate((d) => d.matches('dialog:modal'))).toBe(true);
    await expectAllNamed('the unlock dialog');
    await unlock.getByLabel('Reason', { exact: true }).fill('courier at the front desk');
    await unlock.getByRole('button', { name: 'Unlock now', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Unlocked' }).first().waitFor();
    await waitFor('relay pulsed', () => relayPulses(door!) > pulses, SLOW);
    const recorded = gw.store.audit.search({ kind: 'admin', reason: 'device.unlock', limit: 10 }).items;
    expect(recorded[0]).toMatchObject({ actor: ADMIN.username, target: DEVICE });
    expect(JSON.stringify(recorded[0].body)).toContain('courier at the front desk');
    step('remote unlock');

    // A viewer: sees people and doors, no control that changes anything, and the API refuses.
    expect((await api.call('POST', '/api/users', { ...VIEWER, role: 'viewer' })).status).toBe(201);
    await logout();
    await login(VIEWER);
    await page.getByRole('row').filter({ hasText: 'Grace Hopper' }).waitFor();
    expect(await page.getByRole('button', { name: 'Add person' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Enrol photos for Grace Hopper' }).count()).toBe(0);
    await gotoNav('Doors & devices', 'Doors & devices');
    await page.getByRole('row').filter({ hasText: DEVICE }).waitFor();
    expect(await page.getByRole('button', { name: /^Unlock/ }).count()).toBe(0);
    const pulsesBefore = relayPulses(door);
    const viewerUnlock = await page.evaluate(async (id) => {
      const session = await (await fetch('/api/auth/session')).json();
      const r = await fetch(`/api/devices/${id}/unlock`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken }, body: JSON.stringify({ reason: 'just looking' }) });
      return { role: session.role as string, status: r.status };
    }, DEVICE);
    expect(viewerUnlock).toEqual({ role: 'viewer', status: 403 });
    expect(relayPulses(door)).toBe(pulsesBefore);
    step('viewer checked');

    // Nothing went wrong in the console, except the one answer the test asked for: the viewer's
    // refused unlock (Chromium logs every 4xx answer to fetch as an error).
    const expected = (e: string) => /status of 403/.test(e) && e.endsWith(`/api/devices/${DEVICE}/unlock`);
    const unexpected = consoleErrors.filter((e) => !expected(e));
    if (consoleErrors.length > unexpected.length) console.log(`ui: console errors the test caused on purpose:\n  ${consoleErrors.filter(expected).join('\n  ')}`);
    expect(unexpected, unexpected.join('\n')).toEqual([]);
    console.log(`ui: screenshots in ${shotDir}; whole flow ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }, 180_000);
});
