/**
 * "Enrol <name> at a door": pick a device, then POST /api/devices/:id/enrol-here. The device
 * captures the person standing in front of it (liveness on) and sends a sealed template; the
 * gateway adds it like an uploaded photo. The request waits for the capture (up to the gateway's
 * enrol-here timeout), so the dialog says what to do meanwhile.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, type ApiError } from '../api.ts';
import { Dialog, Notice } from '../components.tsx';
import { enrolHere, waitingText } from './enrol-here.ts';
import type { Person } from './person-form.tsx';
import type { Door } from './schedule-editor.tsx';

interface Device {
  id: string;
  name: string;
  doorId: string | null;
  online: boolean;
  joined: boolean;
}
export function EnrolAtDoor(p: { person: Person; doors: Door[]; onClose: () => void; onEnrolled: () => void }) {
  const [devices, setDevices] = useState<Device[] | null>(null);
  const [deviceId, setDeviceId] = useState('');
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ kind: 'ok' | 'error' | 'warn'; text: string } | null>(null);

  useEffect(() => {
    api<{ items: Device[] }>('GET', '/api/devices')
      .then((r) => {
        setDevices(r.items);
        setDeviceId((r.items.find((d) => d.online) ?? r.items[0])?.id ?? '');
      })
      .catch((err: ApiError) => {
        setDevices([]);
        setOutcome({ kind: 'error', text: `Devices could not be listed: ${err.message}` });
      });
  }, []);

  const doorName = (id: string | null) => (id ? (p.doors.find((d) => d.id === id)?.name ?? id) : 'no door');
  const device = devices?.find((d) => d.id === deviceId);

  const start = async (e: Event) => {
    e.preventDefault();
    if (!device) return;
    setBusy(true);
    setOutcome({ kind: 'warn', text: waitingText(device.name, p.person.name) });
    const out = await enrolHere(device.id, p.person.id, p.person.name, device.name);
    setOutcome(out);
    if (out.enrolled) p.onEnrolled();
    setBusy(false);
  };

  return (
    <Dialog title={`Enrol ${p.person.name} at a door`} onClose={p.onClose}>
      <form onSubmit={start}>
        {devices === null ? (
          <p class="muted">Loading devices…</p>
        ) : devices.length === 0 ? (
          <p class="muted">No devices are provisioned yet.</p>
        ) : (
          <div class="field">
            <label for="enrol-door-device">Device</label>
            <select id="enrol-door-device" value={deviceId} disabled={busy} onChange={(e) => setDeviceId((e.target as HTMLSelectElement).value)}>
              {devices.map((d) => (
                <option value={d.id}>
                  {d.name} — {doorName(d.doorId)} ({d.online ? 'online' : 'offline'})
                </option>
              ))}
            </select>
          </div>
        )}
        {device && !device.online && <p class="warn">This device is offline; the capture will fail unless it reconnects.</p>}
        <div class="actions">
          <button type="submit" disabled={busy || !device}>
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
