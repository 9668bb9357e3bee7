/**
 * Audit: what happens at the doors as it happens (live, over server-sent events), and a search
 * of everything recorded, with CSV export. Read-only for every role.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, type Session } from '../api.ts';
import { AuditSearch } from './audit-search.tsx';
import { LiveAudit } from './audit-live.tsx';
import type { Door } from './device-types.ts';

export function AuditPage(_: { session: Session }) {
  const [doors, setDoors] = useState<Door[]>([]);
  useEffect(() => {
    api<{ items: Door[] }>('GET', '/api/doors').then((r) => setDoors(r.items), () => undefined);
  }, []);
  const doorName = (id: string) => doors.find((d) => d.id === id)?.name ?? id;
  return (
    <section class="au-page">
      <h1>Audit</h1>
      <LiveAudit doorName={doorName} />
      <AuditSearch doors={doors} doorName={doorName} />
    </section>
  );
}
