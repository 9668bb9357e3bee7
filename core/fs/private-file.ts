/**
 * Secrets on disk (keys, broker passwords) are read only from files no one but the process's own
 * user can read or replace: a key that group or others may read protects nothing, and a key file
 * owned by another user can be read, or swapped for one of its choosing, by that user. Both are
 * refused with the fix. The checks run on the open descriptor, so the file checked is the file read.
 */
import { closeSync, fstatSync, openSync, readFileSync, type Stats } from 'node:fs';
import { userInfo } from 'node:os';

export class PrivateFileError extends Error {
  override name = 'PrivateFileError';
}

export interface PrivateFileOptions {
  /** The uid that must own the file; default the process's effective uid (tests inject another). */
  uid?: number;
}

/** Why `st` is not a private file of user `uid` (with the fix), or null when it is. */
export function privateFileProblem(file: string, what: string, st: Pick<Stats, 'mode' | 'uid'>, uid = processUid()): string | null {
  if ((st.mode & 0o077) !== 0) {
    return `${what} ${file} has mode ${(st.mode & 0o777).toString(8)}: group/other may access it; run \`chmod 600 ${file}\``;
  }
  // Where there are no uids (Windows) there is nothing to compare.
  if (uid !== undefined && st.uid !== uid) {
    return (
      `${what} ${file} is owned by uid ${st.uid}, not by the user running Portier (${userName()}, uid ${uid}): ` +
      `its owner can read or replace it; as root run \`chown ${uid} ${file}\`, or run Portier as the file's owner`
    );
  }
  return null;
}

/** Read `file` after checking its mode and owner; `what` names it in errors ("template key file"). */
export function readPrivateFile(file: string, what: string, hint = '', opts: PrivateFileOptions = {}): Buffer {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new PrivateFileError(`${what} ${file} cannot be read (${(err as Error).message})${hint ? `; ${hint}` : ''}`);
  }
  try {
    const problem = privateFileProblem(file, what, fstatSync(fd), opts.uid ?? processUid());
    if (problem) throw new PrivateFileError(problem);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

function processUid(): number | undefined {
  return process.geteuid?.();
}

function userName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'this user';
  }
}
