/**
 * Doctor: the store folder, the template key's source and permissions, the secret files of a
 * joined device, the database's health and the free disk.
 */
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { loadKeyCredential, loadKeyEnv, parseKey } from '../../core/crypto/at-rest.ts';
import { privateFileProblem, readPrivateFile } from '../../core/fs/private-file.ts';
import type { DeviceConfig } from '../config.ts';
import { fail, ok, warn, type Check, type DoctorEnv } from './types.ts';

const MiB = 1024 * 1024;
const mode = (m: number) => (m & 0o777).toString(8).padStart(3, '0');

export function checkStoreDir(env: DoctorEnv, cfg: DeviceConfig): Check {
  const dir = cfg.store.dir;
  let st;
  try {
    st = statSync(dir);
  } catch {
    // The daemon makes the folder at start when it may write in the parent.
    const parent = dirname(resolve(dir));
    let creatable = true;
    try {
      accessSync(parent, constants.W_OK | constants.X_OK);
    } catch {
      creatable = false;
    }
    const fix = `create it for the daemon's user (the unit's StateDirectory=portier makes /var/lib/portier) and set store.dir`;
    return creatable ? warn('store dir', `${dir} does not exist yet (the daemon creates it at start)`, fix) : fail('store dir', `${dir} does not exist and ${parent} is not writable`, fix);
  }
  const what = `${dir} (mode ${mode(st.mode)}, uid ${st.uid})`;
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    return fail('store dir', `${what}: not writable by this user`, `chown the folder to the daemon's user, and keep it in the unit's ReadWritePaths`);
  }
  if (st.mode & 0o002) return fail('store dir', `${what}: anyone may write in it`, `chmod 750 ${dir}`);
  if (env.uid !== undefined && st.uid !== env.uid) return warn('store dir', `${what}: owned by another user than this one (uid ${env.uid})`, `run doctor as the daemon's user, or chown the folder to it`);
  return ok('store dir', what);
}

const at = (cfg: DeviceConfig, f: string) => (isAbsolute(f) ? f : join(cfg.store.dir, f));

/** The key loads from its source; says what that source protects against. */
export function checkTemplateKey(env: DoctorEnv, cfg: DeviceConfig): Check {
  const k = cfg.store.templateKey;
  const area = 'template key';
  try {
    if (k.type === 'file') {
      const file = at(cfg, k.file);
      if (!existsSync(file)) return fail(area, `key file ${file} missing`, 'create it with `npm run portier -- keygen` (as the daemon user)');
      const st = statSync(file);
      const problem = privateFileProblem(file, 'key file', st, env.uid);
      if (problem) return fail(area, problem);
      parseKey(readPrivateFile(file, 'key file', '', { uid: env.uid }), `key file ${file}`);
      return ok(area, `file ${file} (mode ${mode(st.mode)}, uid ${st.uid}); beside the database, so a copy of the SD card carries the key: see README, Privacy and security`);
    }
    if (k.type === 'env') {
      if (!env.env[k.env]) return warn(area, `from $${k.env}, not set in this shell (the unit reads it from its EnvironmentFile): not checked`, `run with the unit's environment, e.g. set -a; . /etc/portier/device.env; set +a`);
      loadKeyEnv(k.env, env.env);
      return ok(area, `from $${k.env} (32 bytes)`);
    }
    const tpm = ['tpmrm0', 'tpm0'].find((n) => existsSync(join(env.devDir, n)));
    const tpmText = tpm ? `TPM2 present (${join(env.devDir, tpm)})` : 'no TPM2 device: a credential can only be sealed with the host key';
    if (env.env.CREDENTIALS_DIRECTORY) {
      loadKeyCredential(k.credential, env.env);
      return ok(area, `systemd credential ${k.credential} from $CREDENTIALS_DIRECTORY; ${tpmText}`);
    }
    const cred = env.credstoreDirs.flatMap((d) => [join(d, `${k.credential}.cred`), join(d, k.credential)]).find((f) => existsSync(f));
    if (!cred) {
      return fail(
        area,
        `systemd credential ${k.credential}: no ${k.credential}.cred in ${env.credstoreDirs.join(', ')}; ${tpmText}`,
        `head -c 32 /dev/urandom | base64 | sudo systemd-creds encrypt --name=${k.credential} --with-key=${tpm ? 'tpm2' : 'host'} - /etc/credstore.encrypted/${k.credential}.cred, and LoadCredentialEncrypted=${k.credential}:/etc/credstore.encrypted/${k.credential}.cred in the unit`,
      );
    }
    const st = statSync(cred);
    // The .cred file is ciphertext made to sit on disk: its mode matters little, the key behind it does.
    return ok(area, `systemd credential ${k.credential}: ${cred} (mode ${mode(st.mode)}, uid ${st.uid}), decrypted by systemd at start; ${tpmText}`);
  } catch (err) {
    return fail(area, (err as Error).message);
  }
}

/** The device keys and broker password of a joined device: private files of this user. */
export function checkSecretFiles(env: DoctorEnv, cfg: DeviceConfig, joined: boolean): Check | undefined {
  if (!joined) return undefined;
  const problems: string[] = [];
  const found: string[] = [];
  for (const [what, f] of [
    ['device key file', cfg.sync.keyFile],
    ['broker password file', cfg.sync.secretFile],
  ] as const) {
    const file = at(cfg, f);
    if (!existsSync(file)) {
      problems.push(`${what} ${file} missing`);
      continue;
    }
    const st = statSync(file);
    const p = privateFileProblem(file, what, st, env.uid);
    if (p) problems.push(p);
    else found.push(`${basename(file)} ${mode(st.mode)}`);
  }
  if (problems.length) return fail('sync secrets', problems.join('; '), 'run `npm run portier -- join <bundle>` again as the daemon user');
  return ok('sync secrets', found.join(', '));
}

export function checkDatabase(env: DoctorEnv, cfg: DeviceConfig): Check {
  const file = at(cfg, cfg.store.databaseFile);
  const aside = (() => {
    try {
      return readdirSync(dirname(file)).filter((n) => n.startsWith(`${basename(file)}.corrupt-`));
    } catch {
      return [];
    }
  })();
  if (!existsSync(file)) return warn('database', `${file} not created yet (the daemon creates it at its first start)`);
  // Even a read-only open of a WAL database creates <file>-wal and -shm when they are missing, and
  // cannot remove them: made by root, they would leave the daemon's user unable to write
  // (SQLITE_READONLY on every append). Only the owner opens it.
  const st = statSync(file);
  if (env.uid !== undefined && st.uid !== env.uid) {
    return warn(
      'database',
      `${file} (${(st.size / MiB).toFixed(1)} MiB) belongs to uid ${st.uid}, not to this user (uid ${env.uid}): not opened, so its health is not checked (opening it would leave -wal/-shm files the daemon cannot write)`,
      `run doctor as the service user that owns it (uid ${st.uid}): sudo -u portier npm run portier -- doctor --config /etc/portier/device.json`,
    );
  }
  let db;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const check = (db.pragma('quick_check', { simple: false }) as { quick_check: string }[]).map((r) => r.quick_check);
    const count = (t: string) => {
      try {
        return (db!.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
      } catch {
        return '?';
      }
    };
    const what = `${file} (${(st.size / MiB).toFixed(1)} MiB): ${count('persons')} people, ${count('templates')} templates, ${count('outbox')} audit events waiting`;
    if (check[0] !== 'ok') return fail('database', `${what}; quick_check: ${check.slice(0, 3).join('; ')}`, 'stop the daemon and start it again: store.onCorrupt salvage copies every readable row into a fresh file');
    if (aside.length) return warn('database', `${what}; earlier corrupt copies kept beside it: ${aside.join(', ')}`, 'the daemon salvaged them at a start; check the SD card (dmesg for I/O errors) and delete the copies once inspected');
    return ok('database', `${what}; quick_check ok`);
  } catch (err) {
    return fail('database', `${file}: ${(err as Error).message}`, 'check the owner and mode of the file; a corrupt file is salvaged by the daemon at its next start');
  } finally {
    db?.close();
  }
}

export function checkDisk(env: DoctorEnv, cfg: DeviceConfig): Check {
  const where = existsSync(cfg.store.dir) ? cfg.store.dir : dirname(resolve(cfg.store.dir));
  const s = env.freeSpace(where);
  if (!s) return warn('free disk', `cannot tell the free space of ${where}`);
  const what = `${(s.free / MiB).toFixed(0)} MiB free of ${(s.total / MiB).toFixed(0)} MiB at ${where}`;
  const fix = 'free space (journalctl --vacuum-size=100M, old images) or use a larger card';
  if (s.free < 50 * MiB) return fail('free disk', what, fix);
  if (s.free < 500 * MiB || s.free < s.total * 0.05) return warn('free disk', what, fix);
  return ok('free disk', what);
}
