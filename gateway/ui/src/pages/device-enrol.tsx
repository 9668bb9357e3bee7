/**
 * "Enrol at this door", from the device's side: pick the person standing in front of it, then
 * POST /api/devices/:id/enrol-here. The device captures them (liveness on) and sends a sealed
 * template; the answer comes when the capture is done or times out, so the dialog says what to
 * do meanwhile, and reports a duplicate warning the way photo enrolment does.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, type ApiError } from '../api.ts';
import { Dialog, Notice } from '../components.tsx';
import type { Device, PersonOption } from './device-types.ts';
import { enrolHere, waitingText } from './enrol-here.ts';

export function EnrolHereDialog(p: { device: Device; door: string; onClose: () => void }) {
  const [people, setPeople] = useState<PersonOption[] | null>(null);
  const [personId, setPersonId] = useState('');
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ kind: 'ok' | 'error' | 'warn'; text: string } | null>(null);

  useEffect(() => {
    api<{ items: PersonOption[] }>('GET', '/api/people?limit=1000')
      .then((r) => {
        setPeople(r.items);
        setPersonId(r.items[0]?.id ?? '');
      })
      .catch((err: ApiError) => {
        setPeople([]);
        setOutcome({ kind: 'error', text: `People could not be listed: ${err.message}` });
      });
  }, []);

  const person = people?.find((x) => x.id === personId);

  const start = async (e: Event) => {
    e.preventDefault();
    if (!person) return;
    setBusy(true);
    setOutcome({ kind: 'warn', text: waitingText(p.device.name, person.name) });
    setOutcome(await enrolHere(p.device.id, person.id, person.name, p.door));
    setBusy(false);
  };

  return (
    <Dialog title={`Enrol someone at ${p.device.name}`} onClose={p.onClose}>
      <form onSubmit={start}>
        <p>
          The camera at {p.door} takes the picture, with the liveness check on. The person must stand in front of it when you start.
          {!p.device.online && <strong class="dv-warn"> This device is offline: the capture will fail unless it reconnects.</strong>}
        </p>
        <div class="field">
          <label for="enrol-here-person">Person</label>
          <select id="enrol-here-person" value={personId} disabled={busy || !people?.length} onChange={(e) => setPersonId((e.target as HTMLSelectElement).value)}>
            {people === null && <option value="">Loading…</option>}
            {people?.length === 0 && <option value="">Nobody registered yet</option>}
            {people?.map((x) => (
              <option value={x.id}>
                {x.name}
                {x.employeeNo ? ` (${x.employeeNo})` : ''}
                {x.active ? '' : ' — inactive'}
              </option>
            ))}
          </select>
        </div>
        <div class="dv-actions">
          <button type="submit" disabled={busy || !person}>
            {busy ? 'Capturing…' : 'Start capture'}
          </button>
          <button type="button" class="secondary" onClick={p.onClose}>
            Done
          </button>
        </div>
        {outcome && <Notice kind={outcome.kind}>{outcome.text}</Notice>}
      </form>
    </Dialog>
  );
}
