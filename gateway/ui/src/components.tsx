/**
 * Shared pieces of the admin UI. Every control has a visible <label>; dialogs are native
 * <dialog> elements opened modal (focus moves in, Escape closes, focus returns to the opener).
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

export function Field(p: { id: string; label: string; children?: ComponentChildren; hint?: string }) {
  return (
    <div class="field">
      <label for={p.id}>{p.label}</label>
      {p.children}
      {p.hint && <small id={`${p.id}-hint`}>{p.hint}</small>}
    </div>
  );
}

/** A modal dialog shown while mounted; `onClose` runs on Escape or the close button. */
export function Dialog(p: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current!;
    const opener = document.activeElement as HTMLElement | null;
    if (!d.open) d.showModal();
    const onCancel = (e: Event) => {
      e.preventDefault();
      p.onClose();
    };
    d.addEventListener('cancel', onCancel);
    return () => {
      d.removeEventListener('cancel', onCancel);
      if (d.open) d.close();
      opener?.focus?.();
    };
  }, []);
  const titleId = `dlg-${p.title.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <dialog ref={ref} aria-labelledby={titleId} class={p.wide ? 'wide' : undefined}>
      <div class="dialog-head">
        <h2 id={titleId}>{p.title}</h2>
        <button type="button" class="secondary" aria-label="Close" onClick={p.onClose}>
          ×
        </button>
      </div>
      {p.children}
    </dialog>
  );
}

/** Short message after an action: role=status so screen readers announce it. */
export function Notice(p: { kind: 'ok' | 'error' | 'warn'; children: ComponentChildren }) {
  return (
    <p role={p.kind === 'error' ? 'alert' : 'status'} class={p.kind}>
      {p.children}
    </p>
  );
}

export const fmtTime = (ms: number | string | null | undefined): string => (ms === null || ms === undefined ? '—' : new Date(ms).toLocaleString());
