/**
 * Remote unlock: the dialog is the confirmation. It names the door, asks why (the reason goes to
 * the audit log with the admin's name), and only "Unlock now" sends the command. The request
 * answers when the device confirms or gives up, so the button says it is waiting meanwhile.
 */
import { useState } from 'preact/hooks';
import { api, type ApiError } from '../api.ts';
import { Dialog, Notice } from '../components.tsx';
import type { Device } from './device-types.ts';

export function UnlockDialog(p: { device: Device; door: string; onClose: () => void; onUnlocked: (text: string) => void }) {
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');

  const submit = async (e: Event) => {
    e.preventDefault();
    if (reason.trim().length < 3) return setError('Say why the door is opened (at least 3 characters).');
    setBusy(true);
    setError('');
    try {
      await api('POST', `/api/devices/${encodeURIComponent(p.device.id)}/unlock`, { reason: reason.trim() });
      p.onUnlocked(`Unlocked ${p.door}.`);
    } catch (err) {
      const a = err as ApiError;
      setError(a.status === 502 ? `Not unlocked: ${a.message}` : a.message);
      setBusy(false);
    }
  };

  return (
    <Dialog title={`Unlock ${p.door}`} onClose={p.onClose}>
      <form onSubmit={submit}>
        <p>
          {p.device.name} releases {p.door} as for a granted face. The reason is kept in the audit log with your name.
          {!p.device.online && <strong class="dv-warn"> This device is offline: the command will fail unless it reconnects.</strong>}
        </p>
        <div class="field">
          <label for="unlock-reason">Reason</label>
          <textarea id="unlock-reason" rows={3} maxLength={500} required value={reason} disabled={busy} aria-describedby="unlock-reason-hint" onInput={(e) => setReason((e.target as HTMLTextAreaElement).value)} />
          <small id="unlock-reason-hint">For example: courier at the front desk.</small>
        </div>
        {error && <Notice kind="error">{error}</Notice>}
        <div class="dv-actions">
          <button type="submit" class="danger" disabled={busy}>
            {busy ? 'Unlocking…' : 'Unlock now'}
          </button>
          <button type="button" class="secondary" onClick={p.onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
