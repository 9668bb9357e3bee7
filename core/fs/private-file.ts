/**
 * Secrets on disk (keys, broker passwords) are read only from files no one but the owner can
 * read: a key that group or others may read protects nothing, so it is refused with the fix.
 */
import { readFileSync, statSync } from 'node:fs';

export class PrivateFileError extends Error {
  override name = 'PrivateFileError';
}

/** Read `file` after checking its mode; `what` names it in errors ("template key file"). */
export function readPrivateFile(file: string, what: string, hint = ''): Buffer {
  let st;
  try {
    st = statSync(file);
  } catch (err) {
    throw new PrivateFileError(`${what} ${file} cannot be read (${(err as Error).message})${hint ? `; ${hint}` : ''}`);
  }
  if ((st.mode & 0o077) !== 0) {
    throw new PrivateFileError(`${what} ${file} has mode ${(st.mode & 0o777).toString(8)}: group/other may access it; run \`chmod 600 ${file}\``);
  }
  return readFileSync(file);
}
