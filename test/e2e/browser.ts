/**
 * Headless Chromium for the UI tests: Debian's `chromium` driven by playwright-core through
 * `executablePath`. Playwright's own browser downloads are never used (no internet needed);
 * without a system Chromium the UI tests skip with a printed reason.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** The system Chromium: what `which chromium` prints, else /usr/bin/chromium; null when neither exists. */
export function chromiumPath(): string | null {
  let found = '';
  try {
    found = execFileSync('which', ['chromium'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    /* not on PATH */
  }
  for (const p of [found, '/usr/bin/chromium']) if (p && existsSync(p)) return p;
  return null;
}

export const hasChromium = chromiumPath() !== null;

export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('no system chromium (apt-get install chromium)');
  const args = [
    '--disable-background-networking',
    '--disable-component-update',
    // getUserMedia answers with Chromium's synthetic camera, no permission prompt.
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
  ];
  // Chromium's sandbox needs user namespaces that root in a container does not get.
  if (process.getuid?.() === 0) args.push('--no-sandbox');
  return chromium.launch({ executablePath, headless: true, args });
}
