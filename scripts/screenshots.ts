/**
 * `npm run screenshots`: regenerate the README's screenshots of the admin UI (docs/screenshots/
 * people.png, enrolment.png, audit.png) by running the browser test with
 * PORTIER_SCREENSHOTS_DIR set. The test drives a real gateway and a simulated door with the two
 * public-domain fixture portraits only. Needs Debian's chromium and the models; fails if the
 * test skipped or did not write every picture.
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'docs/screenshots');
const expected = ['people', 'enrolment', 'audit'].map((n) => join(outDir, `${n}.png`));
const started = Date.now();

const child = spawn('npx', ['vitest', 'run', 'test/e2e/ui.test.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, PORTIER_SCREENSHOTS_DIR: outDir },
});
child.on('exit', (code, signal) => {
  if (code !== 0) {
    console.error(`screenshots: the UI test failed (${signal ?? `exit ${code}`})`);
    process.exit(code || 1);
  }
  const stale = expected.filter((f) => !existsSync(f) || statSync(f).mtimeMs < started);
  if (stale.length) {
    console.error(`screenshots: not written (did the test skip?): ${stale.map((f) => f.slice(root.length + 1)).join(', ')}`);
    process.exit(1);
  }
  console.log(`screenshots: ${expected.map((f) => f.slice(root.length + 1)).join(', ')}`);
});
