import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PrivateFileError, readPrivateFile } from '../../../core/fs/private-file.ts';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'portier-private-'));
  file = join(dir, 'secret');
  writeFileSync(file, 's3cret', { mode: 0o600 });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const uid = process.geteuid!();
const isRoot = uid === 0;
if (!isRoot) console.log('SKIPPED: chown to another user needs root (the owner check is still tested with an injected uid)');

describe('readPrivateFile', () => {
  it('reads a 0600 file of the process user', () => {
    expect(readPrivateFile(file, 'key file').toString()).toBe('s3cret');
  });

  it('refuses group/other access with the chmod to run', () => {
    chmodSync(file, 0o640);
    expect(() => readPrivateFile(file, 'key file')).toThrow(/mode 640: group\/other may access it; run `chmod 600/);
  });

  it('refuses a file owned by another user than the one running Portier', () => {
    expect(() => readPrivateFile(file, 'key file', '', { uid: uid + 1 })).toThrow(PrivateFileError);
    expect(() => readPrivateFile(file, 'key file', '', { uid: uid + 1 })).toThrow(new RegExp(`owned by uid ${uid}, not by the user running Portier .*uid ${uid + 1}.*chown ${uid + 1}`));
  });

  // Tests run as root in CI: root owning the file is the process's own user there, so the
  // refusal is shown with a real file of nobody's.
  it.skipIf(!isRoot)('as root: refuses a 0600 file owned by nobody (65534), although root could read it', () => {
    chownSync(file, 65534, 65534);
    expect(() => readPrivateFile(file, 'key file')).toThrow(/owned by uid 65534, not by the user running Portier \(.*uid 0\)/);
  });

  it('a missing file names the hint', () => {
    expect(() => readPrivateFile(join(dir, 'none'), 'key file', 'run keygen')).toThrow(/key file .* cannot be read .*; run keygen/);
  });
});
