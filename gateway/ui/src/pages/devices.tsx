/**
 * Doors & devices: one row per device with what its last status message said (door, camera,
 * gallery, outbox, versions) and whether it is connected, refreshed every few seconds. Admins
 * get remote unlock (with a reason, confirmed in a dialog) and "enrol at this door"; a viewer
 * sees the same table with no button that changes anything.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type ApiError, type Session } from '../api.ts';
import { Notice, fmtTime } from '../components.tsx';
import { EnrolHereDialog } from './device-enrol.tsx';
import { doorName, type Device, type Door } from './device-types.ts';
import { UnlockDialog } from './device-unlock.tsx';

const REFRESH_MS = 5000;

type Open = { kind: 'unlock' | 'enrol'; device: Device } | null;

/** "12 s ago", "3 min ago", or the date for anything older than a day. */
function ago(iso: string | null, now: number): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return fmtTime(iso);
}

const alarmWords: Record<string, string> = { held_open: 'held open', forced_open: 'forced open' };

function DoorState({ d }: { d: Device }) {
  const s = d.door;
  if (!s) return <span class="dv-muted">unknown</span>;
  const open = s.open === true ? 'open' : s.open === false ? 'closed' : null;
  return (
    <span>
      {s.state ?? 'unknown'}
      {open && `, ${open}`}
      {(s.alarms ?? []).map((a) => (
        <span class="dv-tag security">Alarm: {alarmWords[a] ?? a.replace(/_/g, ' ')}</span>
      ))}
    </span>
  );
}

function Camera({ d }: { d: Device }) {
  if (!d.camera) return <span class="dv-muted">unknown</span>;
  const up = d.camera.status === 'up';
  return (
    <span>
      <span class={up ? 'ok' : 'error'}>{d.camera.status ?? 'unknown'}</span>
      {d.camera.driver && <span class="dv-muted"> ({d.camera.driver})</span>}
    </span>
  );
}

function Versions({ d }: { d: Device }) {
  const v = d.versions;
  if (!v) return <span class="dv-muted">unknown</span>;
  const models = typeof v.models === 'string' ? v.models : v.models ? Object.entries(v.models).map(([k, p]) => `${k} ${p}`).join(', ') : '';
  return (
    <span>
      {v.software ? `software ${v.software}` : 'software ?'}
      {models && <span class="dv-muted dv-models">models: {models}</span>}
    </span>
  );
}

export function DevicesPage({ session }: { session: Session }) {
  const admin = session.role === 'admin';
  const [devices, setDevices] = useState<Device[] | null>(null);
  const [doors, setDoors] = useState<Door[]>([]);
  const [now, setNow] = useState(Date.now());
  const [open, setOpen] = useState<Open>(null);
  const [notice, setNotice] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [loadError, setLoadError] = useState('');
  const alive = useRef(true);

  const load = async () => {
    try {
      const [d, o] = await Promise.all([api<{ items: Device[] }>('GET', '/api/devices'), api<{ items: Door[] }>('GET', '/api/doors')]);
      if (!alive.current) return;
      setDevices(d.items);
      setDoors(o.items);
      setNow(Date.now());
      setLoadError('');
    } catch (err) {
      if (alive.current) setLoadError(`Could not refresh the devices: ${(err as ApiError).message}`);
    }
  };

  useEffect(() => {
    alive.current = true;
    void load();
    const t = setInterval(() => {
      if (!document.hidden) void load();
    }, REFRESH_MS);
    return () => {
      alive.current = false;
      clearInterval(t);
    };
  }, []);

  const doorOf = (d: Device) => doorName(doors, d.doorId) || d.name;

  return (
    <section class="dv-page">
      <h1>Doors &amp; devices</h1>
      <p class="dv-muted">Refreshed every {REFRESH_MS / 1000} seconds. A device is online while its broker connection is up.</p>
      {notice && <Notice kind={notice.kind}>{notice.text}</Notice>}
      {loadError && <Notice kind="error">{loadError}</Notice>}
      {devices === null ? (
        <p class="loading">Loading…</p>
      ) : devices.length === 0 ? (
        <p>No devices yet. Provision one on the gateway with <code>npm run portier -- provision &lt;device id&gt; --door &lt;door id&gt;</code>.</p>
      ) : (
        <table class="responsive dv-table">
          <thead>
            <tr>
              <th scope="col">Device</th>
              <th scope="col">Door</th>
              <th scope="col">Connection</th>
              <th scope="col">Last seen</th>
              <th scope="col">Door state</th>
              <th scope="col">Camera</th>
              <th scope="col">Gallery</th>
              <th scope="col">Outbox</th>
              <th scope="col">Versions</th>
              {admin && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {devices.map((d) => (
              <tr key={d.id} class={d.online ? undefined : 'dv-offline'}>
                <td data-label="Device">
                  <div>
                    <strong>{d.name}</strong>
                    {d.name !== d.id && <span class="dv-muted dv-id">{d.id}</span>}
                    {!d.joined && <span class="dv-tag">not joined yet</span>}
                  </div>
                </td>
                <td data-label="Door">{doorName(doors, d.doorId) || <span class="dv-muted">none</span>}</td>
                <td data-label="Connection">
                  <span class={`dv-dot ${d.online ? 'on' : 'off'}`} aria-hidden="true" />
                  {d.online ? 'Online' : 'Offline'}
                </td>
                <td data-label="Last seen">
                  <time datetime={d.lastSeen ?? undefined} title={d.lastSeen ? fmtTime(d.lastSeen) : undefined}>
                    {ago(d.lastSeen, now)}
                  </time>
                </td>
                <td data-label="Door state">
                  <DoorState d={d} />
                </td>
                <td data-label="Camera">
                  <Camera d={d} />
                </td>
                <td data-label="Gallery">{d.gallerySize ?? '—'} {d.gallerySize !== null && <span class="dv-muted">{d.gallerySize === 1 ? 'person' : 'people'}</span>}</td>
                <td data-label="Outbox">
                  {d.outboxDepth ?? '—'} {d.outboxDepth ? <span class="dv-muted">waiting</span> : null}
                </td>
                <td data-label="Versions">
                  <div>
                    <Versions d={d} />
                  </div>
                </td>
                {admin && (
                  <td data-label="Actions" class="dv-buttons">
                    <button type="button" class="danger" aria-label={`Unlock ${d.name}`} onClick={() => (setNotice(null), setOpen({ kind: 'unlock', device: d }))}>
                      Unlock
                    </button>
                    <button type="button" class="secondary" aria-label={`Enrol someone at ${d.name}`} onClick={() => (setNotice(null), setOpen({ kind: 'enrol', device: d }))}>
                      Enrol someone
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {open?.kind === 'unlock' && (
        <UnlockDialog
          device={open.device}
          door={doorOf(open.device)}
          onClose={() => setOpen(null)}
          onUnlocked={(text) => {
            setOpen(null);
            setNotice({ kind: 'ok', text });
            void load();
          }}
        />
      )}
      {open?.kind === 'enrol' && <EnrolHereDialog device={open.device} door={doorOf(open.device)} onClose={() => (setOpen(null), void load())} />}
    </section>
  );
}
