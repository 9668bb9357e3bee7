/**
 * "Enrol at a door", shared by the person's dialog (pick a device) and the device's dialog (pick
 * a person): POST /api/devices/:id/enrol-here, which answers once the device has captured the
 * person (liveness on) and the gateway has stored or refused the sealed template, and the
 * outcome in words, with the duplicate warning the way photo enrolment gives it.
 */
import { api, type ApiError } from '../api.ts';
import { qualityInWords } from '../words.ts';

export interface EnrolHereResult {
  accepted?: boolean;
  refusal?: 'duplicate' | 'limit' | null;
  duplicateOf?: { personId: string; name: string; score: number } | null;
}

export interface EnrolHereOutcome {
  kind: 'ok' | 'error' | 'warn';
  text: string;
  /** A template was stored. */
  enrolled: boolean;
}

/** What the dialog says while the device captures. */
export const waitingText = (deviceName: string, personName: string): string =>
  `Waiting for ${deviceName}: ask ${personName} to stand in front of its camera and look at it.`;

/** The outcome in words: "Enrolled <who> at <where>." (+ a duplicate warning), "Refused: <why>.", or "Not enrolled: <error>". */
export function enrolHereOutcome(res: EnrolHereResult, who: string, where: string): EnrolHereOutcome {
  const like = res.duplicateOf ? `${res.duplicateOf.name} (score ${res.duplicateOf.score.toFixed(2)})` : null;
  if (res.accepted === false) {
    const why = res.refusal ? qualityInWords(res.refusal) : 'the capture was not usable';
    return { kind: 'error', text: `Refused: ${why}.${like ? ` Looks like ${like}.` : ''}`, enrolled: false };
  }
  return { kind: like ? 'warn' : 'ok', text: `Enrolled ${who} at ${where}.${like ? ` Warning: looks like ${like}.` : ''}`, enrolled: true };
}

/** Runs the capture; never throws: a refused request is an outcome too. */
export async function enrolHere(deviceId: string, personId: string, who: string, where: string): Promise<EnrolHereOutcome> {
  try {
    const r = await api<{ ok: boolean; result: EnrolHereResult | null }>('POST', `/api/devices/${encodeURIComponent(deviceId)}/enrol-here`, { personId });
    return enrolHereOutcome(r.result ?? {}, who, where);
  } catch (err) {
    return { kind: 'error', text: `Not enrolled: ${(err as ApiError).message}`, enrolled: false };
  }
}
