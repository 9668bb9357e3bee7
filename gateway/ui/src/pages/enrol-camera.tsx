/**
 * "Take a photo" with the laptop's camera: getUserMedia -> live <video> -> "Capture" draws the
 * current frame on a canvas -> JPEG Blob -> File handed to the enrol dialog. The camera stays on
 * for more shots until "Stop camera" or the dialog closes (the tracks are always stopped, also
 * when the dialog closed while the browser was still asking for the camera).
 */
import { useEffect, useRef, useState } from 'preact/hooks';

export function CameraCapture(p: { onPhoto: (f: File) => void; disabled?: boolean }) {
  const video = useRef<HTMLVideoElement>(null);
  const [stream, setStream] = useState<MediaStream | null>(null);
  const [error, setError] = useState('');
  const [starting, setStarting] = useState(false);
  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );

  useEffect(() => {
    if (stream && video.current) {
      video.current.srcObject = stream;
      void video.current.play().catch(() => undefined);
    }
    return () => stream?.getTracks().forEach((t) => t.stop());
  }, [stream]);

  const start = async () => {
    setError('');
    if (!navigator.mediaDevices?.getUserMedia) return setError('This browser gives no camera access here (it needs https or localhost).');
    setStarting(true);
    try {
      const s = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 720 }, facingMode: 'user' }, audio: false });
      // The dialog closed while the permission prompt was open: nobody will stop these tracks later.
      if (!mounted.current) return s.getTracks().forEach((t) => t.stop());
      setStream(s);
    } catch (err) {
      if (!mounted.current) return;
      const name = (err as DOMException).name;
      setError(name === 'NotAllowedError' ? 'Camera access was refused; allow it in the browser to take a photo.' : name === 'NotFoundError' ? 'No camera found.' : `The camera could not start: ${(err as Error).message}`);
    } finally {
      if (mounted.current) setStarting(false);
    }
  };

  const capture = () => {
    const v = video.current;
    if (!v || !v.videoWidth) return setError('The camera has no picture yet; try again in a moment.');
    const canvas = document.createElement('canvas');
    canvas.width = v.videoWidth;
    canvas.height = v.videoHeight;
    canvas.getContext('2d')!.drawImage(v, 0, 0);
    canvas.toBlob(
      (blob) => {
        if (!blob) return setError('The frame could not be captured.');
        const stamp = new Date().toISOString().slice(11, 19).replace(/:/g, '');
        p.onPhoto(new File([blob], `camera-${stamp}.jpg`, { type: 'image/jpeg' }));
      },
      'image/jpeg',
      0.92,
    );
  };

  const stop = () => setStream(null);

  return (
    <div class="camera">
      {!stream ? (
        <button type="button" class="secondary" onClick={start} disabled={starting || p.disabled}>
          Take a photo
        </button>
      ) : (
        <>
          <video ref={video} class="live" autoplay muted playsInline aria-label="Live camera picture" />
          <div class="actions">
            <button type="button" onClick={capture} disabled={p.disabled}>
              Capture
            </button>
            <button type="button" class="secondary" onClick={stop}>
              Stop camera
            </button>
          </div>
        </>
      )}
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
    </div>
  );
}
