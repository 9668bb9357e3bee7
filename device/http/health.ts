/** Liveness of the device as a load balancer or systemd-independent probe sees it. */

export type CameraStatus = 'up' | 'down' | 'starting';

export interface HealthInput {
  camera: CameraStatus;
  /** Epoch ms when the frame loop last completed a frame; null before the first one. */
  lastTickAt: number | null;
  /** Conditions an operator must see that do not stop the door (e.g. outbox_near_cap, sync_disconnected). */
  warnings?: string[];
}

export type Health = (
  | { status: 'ok'; lastTickAgeMs: number }
  | { status: 'unhealthy'; reason: 'camera_down' | 'camera_starting' | 'no_frame_yet' | 'loop_stale'; lastTickAgeMs: number | null }
) & { warnings?: string[] };

export function evaluateHealth(input: HealthInput, staleAfterMs: number, now: number): Health {
  const h = evaluateLoop(input, staleAfterMs, now);
  return input.warnings?.length ? { ...h, warnings: input.warnings } : h;
}

function evaluateLoop(input: HealthInput, staleAfterMs: number, now: number): Health {
  const age = input.lastTickAt === null ? null : Math.max(0, now - input.lastTickAt);
  if (input.camera === 'down') return { status: 'unhealthy', reason: 'camera_down', lastTickAgeMs: age };
  if (age === null) {
    return { status: 'unhealthy', reason: input.camera === 'starting' ? 'camera_starting' : 'no_frame_yet', lastTickAgeMs: null };
  }
  if (age > staleAfterMs) return { status: 'unhealthy', reason: 'loop_stale', lastTickAgeMs: age };
  return { status: 'ok', lastTickAgeMs: age };
}
