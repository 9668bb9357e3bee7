/**
 * The sync sub-document of the lowdb settings file: pinned gateway keys, replay floor, register
 * cursor. Every change is written through before the caller acts on it (atomic write + fsync in
 * DurableJSONFile), so a crash can at worst repeat an idempotent step, never accept a replay.
 */
import type { Low } from 'lowdb';
import type { DeviceSettings, SyncSettings } from '../store/settings.ts';

export class SyncState {
  constructor(private readonly doc: Low<DeviceSettings>) {}

  get joined(): boolean {
    return !!this.doc.data.sync;
  }

  get current(): Readonly<SyncSettings> {
    const s = this.doc.data.sync;
    if (!s) throw new Error('this device has not joined a gateway; run `portier join <bundle>` first');
    return s;
  }

  /** Change the sync document (and optionally other settings values) in one atomic write. */
  async update(patch: Partial<SyncSettings>, values?: Record<string, unknown>): Promise<void> {
    const before = { ...this.doc.data };
    const next = { ...this.current, ...patch };
    this.doc.data.sync = next;
    this.doc.data.syncCursor = next.cursor === null ? null : String(next.cursor);
    if (values) this.doc.data.values = { ...this.doc.data.values, ...values };
    try {
      await this.doc.write();
    } catch (err) {
      // Memory must not run ahead of the disk: the caller does not act when this throws.
      this.doc.data = before;
      throw err;
    }
  }

  get values(): Record<string, unknown> {
    return this.doc.data.values;
  }
}
