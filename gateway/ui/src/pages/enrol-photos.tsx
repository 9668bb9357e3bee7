/**
 * The "Enrol <name>" dialog: choose or drop photos, or take one with the camera; "Upload" sends
 * them in one multipart request and each photo comes back with its face box, its verdict in words
 * and a duplicate warning. Previews are object URLs (the CSP allows img-src blob:), revoked when
 * the dialog closes.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type ApiError } from '../api.ts';
import { Dialog, Notice } from '../components.tsx';
import { qualityInWords } from '../words.ts';
import { CameraCapture } from './enrol-camera.tsx';
// The API's own type (a type-only import: nothing of the server reaches the browser bundle).
import type { PhotoFeedback } from '../../../enrol/enrol.ts';
import type { Person } from './person-form.tsx';


interface EnrolReply {
  accepted: number;
  rejected: number;
  templates: number;
  photos: PhotoFeedback[];
}
interface Pending {
  key: number;
  file: File;
  url: string;
}
interface Result extends Pending {
  fb: PhotoFeedback;
}

/** "Accepted" or "Refused: <why in words>". */
export function verdict(fb: PhotoFeedback): string {
  if (fb.accepted) return 'Accepted';
  const why = fb.refusal === 'duplicate' ? [qualityInWords('duplicate')] : fb.refusal === 'limit' ? [qualityInWords('limit')] : fb.quality.reasons.map(qualityInWords);
  return `Refused: ${why.join(', ') || 'not usable'}`;
}

/**
 * The photo with the face box drawn over it: an SVG stretched over the <img> whose viewBox is the
 * size the server analysed (photos over vision.decodeMaxSide are downscaled before detection, so
 * the box is not in the file's own pixels); the image's natural size only when the server gave none.
 */
export function PhotoWithBox(p: { url: string; alt: string; box: PhotoFeedback['box']; width?: number | null; height?: number | null }) {
  const [natural, setNatural] = useState<{ w: number; h: number } | null>(null);
  const size = p.width && p.height ? { w: p.width, h: p.height } : natural;
  const b = p.box;
  return (
    <div class="photo-frame">
      <img src={p.url} alt={p.alt} onLoad={(e) => setNatural({ w: (e.target as HTMLImageElement).naturalWidth, h: (e.target as HTMLImageElement).naturalHeight })} />
      {size && b && (
        <svg class="facebox" viewBox={`0 0 ${size.w} ${size.h}`} preserveAspectRatio="none" aria-hidden="true" focusable="false">
          <rect x={b[0]} y={b[1]} width={Math.max(0, b[2] - b[0])} height={Math.max(0, b[3] - b[1])} vector-effect="non-scaling-stroke" />
        </svg>
      )}
    </div>
  );
}

let nextKey = 1;

export function EnrolPhotos(p: { person: Person; onClose: () => void; onEnrolled: () => void }) {
  const [pending, setPending] = useState<Pending[]>([]);
  const [results, setResults] = useState<Result[]>([]);
  const [busy, setBusy] = useState(false);
  const [dragging, setDragging] = useState(false);
  const [notice, setNotice] = useState<{ kind: 'ok' | 'error' | 'warn'; text: string } | null>(null);
  const input = useRef<HTMLInputElement>(null);
  // Every URL made here, revoked on close (results keep theirs until then).
  const urls = useRef<string[]>([]);
  useEffect(() => () => urls.current.forEach((u) => URL.revokeObjectURL(u)), []);

  const add = (files: Iterable<File>) => {
    const images = [...files].filter((f) => f.type.startsWith('image/') || /\.(jpe?g|png|webp|bmp|gif)$/i.test(f.name));
    if (!images.length) return setNotice({ kind: 'warn', text: 'Only image files can be enrolled.' });
    setNotice(null);
    const added = images.map((file) => {
      const url = URL.createObjectURL(file);
      urls.current.push(url);
      return { key: nextKey++, file, url };
    });
    setPending((cur) => [...cur, ...added]);
  };
  const drop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    if (e.dataTransfer?.files.length) add(e.dataTransfer.files);
  };

  const send = async (items: Pending[], force: boolean): Promise<Result[] | null> => {
    const form = new FormData();
    for (const it of items) form.append('photos', it.file, it.file.name);
    if (force) form.append('force', 'true');
    try {
      const r = await api<EnrolReply>('POST', `/api/people/${encodeURIComponent(p.person.id)}/photos`, form);
      const ok = r.photos.filter((f) => f.accepted).length;
      setNotice({
        kind: ok === r.photos.length ? 'ok' : ok ? 'warn' : 'error',
        text: `${r.photos.length === 1 ? '1 photo' : `${r.photos.length} photos`}: ${ok} accepted, ${r.photos.length - ok} refused. ${p.person.name} now has ${r.templates === 1 ? '1 template' : `${r.templates} templates`}.`,
      });
      if (ok) p.onEnrolled();
      return items.map((it, i) => ({ ...it, fb: r.photos[i] }));
    } catch (err) {
      setNotice({ kind: 'error', text: `Upload failed: ${(err as ApiError).message}` });
      return null;
    }
  };

  const upload = async () => {
    if (!pending.length) return setNotice({ kind: 'warn', text: 'Choose, drop or take a photo first.' });
    setBusy(true);
    const sent = pending;
    const done = await send(sent, false);
    if (done) {
      setResults((cur) => [...cur, ...done]);
      // Only the photos just sent: any dropped or taken meanwhile wait for the next upload.
      setPending((cur) => cur.filter((x) => !sent.includes(x)));
    }
    setBusy(false);
  };

  const force = async (r: Result) => {
    setBusy(true);
    const done = await send([r], true);
    if (done) setResults((cur) => cur.map((x) => (x.key === r.key ? done[0] : x)));
    setBusy(false);
  };

  return (
    <Dialog title={`Enrol ${p.person.name}`} onClose={p.onClose} wide>
      <div class="enrol">
        <div class="field">
          <label for="enrol-photos">Photos</label>
          <input
            ref={input}
            id="enrol-photos"
            type="file"
            accept="image/*"
            multiple
            disabled={busy}
            aria-describedby="enrol-photos-hint"
            onChange={(e) => {
              const el = e.target as HTMLInputElement;
              if (el.files?.length) add(el.files);
              el.value = '';
            }}
          />
          <small id="enrol-photos-hint">One face per photo, facing the camera, well lit. Several photos make recognition more reliable.</small>
        </div>
        <div
          class={`dropzone${dragging ? ' over' : ''}`}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={drop}
        >
          Drop photos here
        </div>
        <CameraCapture onPhoto={(f) => add([f])} disabled={busy} />

        {pending.length > 0 && (
          <ul class="photo-grid pending" aria-label="Photos to upload">
            {pending.map((it) => (
              <li key={it.key}>
                <PhotoWithBox url={it.url} alt={it.file.name} box={null} />
                <span class="photo-name">{it.file.name}</span>
                <button type="button" class="secondary small" aria-label={`Remove ${it.file.name}`} onClick={() => setPending((cur) => cur.filter((x) => x.key !== it.key))} disabled={busy}>
                  Remove
                </button>
              </li>
            ))}
          </ul>
        )}
        <div class="actions">
          <button type="button" onClick={upload} disabled={busy}>
            {busy ? 'Uploading…' : 'Upload'}
          </button>
        </div>
        {notice && <Notice kind={notice.kind}>{notice.text}</Notice>}

        {results.length > 0 && (
          <ul class="photo-grid results" role="list" aria-label="Photo results">
            {results.map((r) => (
              <li key={r.key} class={r.fb.accepted ? 'accepted' : 'refused'}>
                <PhotoWithBox url={r.url} alt={r.fb.name} box={r.fb.box} width={r.fb.width} height={r.fb.height} />
                <span class="photo-name">{r.fb.name}</span>
                <p class={`verdict ${r.fb.accepted ? 'ok' : 'error'}`}>{verdict(r.fb)}</p>
                {r.fb.duplicateOf && (
                  <p class="warn">
                    Looks like {r.fb.duplicateOf.name} (score {r.fb.duplicateOf.score.toFixed(2)})
                  </p>
                )}
                {r.fb.refusal === 'duplicate' && (
                  <button type="button" class="secondary small" aria-label={`Enrol ${r.fb.name} anyway`} onClick={() => force(r)} disabled={busy}>
                    Enrol anyway
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
      </div>
    </Dialog>
  );
}
