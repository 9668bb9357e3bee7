/**
 * `npm run portier -- doctor`: what the device found on this board, one line per check with
 * OK / WARN / FAIL and, for a problem, the fix. Read-only: no GPIO line is requested (that would
 * drive the lock), and the camera is only opened for a test frame when the daemon is not running.
 * Exit code 1 when any check fails.
 */
import type { DeviceConfig } from './config.ts';
import { checkCameraDriver, checkCameraList, checkCapture } from './doctor/camera.ts';
import { checkBoard, checkGpioChips, checkGpioDriver } from './doctor/gpio.ts';
import { checkDatabase, checkDisk, checkSecretFiles, checkStoreDir, checkTemplateKey } from './doctor/storage.ts';
import { checkClock, checkModels, checkProviders, checkSync, checkUser, probeDaemon } from './doctor/system.ts';
import { defaultDoctorEnv, fail, type Check, type DoctorEnv } from './doctor/types.ts';

export type { Check, DoctorEnv } from './doctor/types.ts';
export { defaultDoctorEnv } from './doctor/types.ts';

export interface DoctorReport {
  checks: Check[];
  failed: boolean;
}

/** Runs every check; a check that throws becomes a FAIL line instead of ending the report. */
export async function runDoctor(cfg: DeviceConfig, env: DoctorEnv = defaultDoctorEnv({ modelFile: cfg.gpio.boardModelFile })): Promise<DoctorReport> {
  const checks: Check[] = [];
  const add = (c: Check | Check[] | undefined) => c && checks.push(...(Array.isArray(c) ? c : [c]));
  const guard = async <T>(area: string, fn: () => T | Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      add(fail(area, `check failed: ${(err as Error).message}`));
      return undefined;
    }
  };
  add(checkUser(env));
  const b = await guard('board', () => checkBoard(env));
  add(b?.check);
  const board = b?.board ?? null;
  add(await guard('gpio chips', () => checkGpioChips(env, cfg)));
  add(await guard('gpio driver', () => checkGpioDriver(env, cfg, board)));
  const daemon = (await guard('daemon', () => probeDaemon(env, cfg))) ?? { probe: { running: false }, check: undefined };
  add(daemon.check);
  add(await guard('cameras', () => checkCameraList(env, cfg)));
  add(await guard('camera driver', () => checkCameraDriver(env, cfg, board)));
  add(await guard('camera capture', () => checkCapture(env, cfg, daemon.probe)));
  add(await guard('store dir', () => checkStoreDir(env, cfg)));
  add(await guard('template key', () => checkTemplateKey(env, cfg)));
  const sync = await guard('mqtt', () => checkSync(env, cfg, daemon.probe));
  add(await guard('sync secrets', () => checkSecretFiles(env, cfg, sync?.joined ?? false)));
  add(sync?.check);
  add(await guard('database', () => checkDatabase(env, cfg)));
  add(await guard('free disk', () => checkDisk(env, cfg)));
  add(await guard('models', () => checkModels(env, cfg)));
  add(await guard('onnxruntime', () => checkProviders(env, cfg)));
  add(await guard('clock', () => checkClock(env)));
  return { checks, failed: checks.some((c) => c.status === 'fail') };
}

const LABEL = { ok: 'OK  ', warn: 'WARN', fail: 'FAIL' } as const;

/** The report as printed: `OK   area  message`, and `     fix: ...` under a problem. */
export function formatReport(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((c) => c.area.length));
  const lines = report.checks.flatMap((c) => [`${LABEL[c.status]} ${c.area.padEnd(width)}  ${c.message}`, ...(c.fix ? [`${' '.repeat(5 + width + 2)}fix: ${c.fix}`] : [])]);
  const n = (s: Check['status']) => report.checks.filter((c) => c.status === s).length;
  lines.push('', `${n('ok')} ok, ${n('warn')} warnings, ${n('fail')} failed`);
  return lines.join('\n');
}
