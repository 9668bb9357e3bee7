/** "Delete <name>?": deleting removes the person's templates from every device, so say so first. */
import { useState } from 'preact/hooks';
import { api, type ApiError } from '../api.ts';
import { Dialog, Notice } from '../components.tsx';
import type { Person } from './person-form.tsx';

export function DeletePerson(p: { person: Person; onClose: () => void; onDeleted: (templatesRemoved: number) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const n = p.person.templates;
  const del = async () => {
    setBusy(true);
    try {
      const r = await api<{ templatesRemoved: number }>('DELETE', `/api/people/${encodeURIComponent(p.person.id)}`);
      p.onDeleted(r.templatesRemoved);
    } catch (err) {
      setError((err as ApiError).message);
      setBusy(false);
    }
  };
  return (
    <Dialog title={`Delete ${p.person.name}?`} onClose={p.onClose}>
      <p>
        {p.person.name} will be deleted with {n === 0 ? 'any templates and kept photos' : n === 1 ? 'their 1 template and any kept photos' : `their ${n} templates and any kept photos`}. Templates are removed from every device at
        its next sync, so they can no longer open any door. This cannot be undone; to stop access for a while, deactivate them instead.
      </p>
      {error && <Notice kind="error">{error}</Notice>}
      <div class="actions">
        <button type="button" class="danger" onClick={del} disabled={busy}>
          Delete
        </button>
        <button type="button" class="secondary" onClick={p.onClose} autoFocus>
          Cancel
        </button>
      </div>
    </Dialog>
  );
}
