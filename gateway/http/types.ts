/**
 * What the HTTP server needs from the rest of the gateway, as small structural types so tests
 * pass fakes and the server never imports the sync layer or the auth implementation.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EnrolEngine, Enrolment } from '../enrol/enrol.ts';
import type { GatewayEnrolConfig } from '../enrol/config.ts';
import type { GatewayStore } from '../store/types.ts';
import type { GatewayHttpConfigInput } from './config.ts';

export type Role = 'admin' | 'viewer';

export interface Principal {
  user: string;
  role: Role;
}

/** The auth module (gateway/auth) as the server sees it. */
export interface AuthGate {
  /** Serves /api/auth/*, /api/setup* and /api/users*; resolves true when it answered the request. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>;
  /**
   * The logged-in user, or null. `touch: false` checks without counting as activity, for
   * re-checks of a long-lived connection (an open live view must not keep an idle session alive).
   */
  principal(req: IncomingMessage, opts?: { touch?: boolean }): Promise<Principal | null>;
  /** Same-origin headers and the session's x-csrf-token, for state-changing requests. */
  checkCsrf(req: IncomingMessage): boolean;
  /** An opaque key of the request's login session (never sent anywhere), for per-session limits; without it the user name is the key. */
  sessionKey?(req: IncomingMessage): string | null;
}

export interface ProvisionResult {
  /** The provisioning bundle for `portier join` (contains the one-time join secret: shown once). */
  bundle: string;
  mosquitto?: { passwordLine: string; aclLines: string[] };
}
export type ProvisionFn = (deviceId: string, opts: { name?: string; doorId?: string | null }) => Promise<ProvisionResult>;

export type DeviceCommand = 'unlock' | 'resync' | 'enrol-here';
export interface CommandResult {
  ok: boolean;
  error?: string;
  result?: Record<string, unknown>;
}
export type CommandFn = (deviceId: string, command: DeviceCommand, args: { reason?: string; personId?: string }, actor: string) => Promise<CommandResult>;

/** Prometheus text for /metrics: a function, or a metrics object with a prom-client registry (and optional HTTP counters). */
export type MetricsSource =
  | (() => Promise<string> | string)
  | {
      registry: { metrics(): Promise<string>; contentType?: string };
      startHttpTimer?(method: string): (status: number) => void;
    };

export interface GatewayHttpDeps {
  config: GatewayHttpConfigInput;
  store: GatewayStore;
  auth: AuthGate;
  /** The vision engine (core/vision VisionEngine); used to build the enrolment when none is given. */
  engine: EnrolEngine;
  /** Share one enrolment (and its duplicate index) with the sync layer's enrol-here. */
  enrolment?: Enrolment;
  /** Only used when no enrolment is given. */
  enrolConfig?: Partial<GatewayEnrolConfig>;
  provision: ProvisionFn;
  command: CommandFn;
  /** Remove a device everywhere (broker session, store). Default: delete the store record. */
  decommission?: (deviceId: string) => Promise<boolean> | boolean;
  metrics: MetricsSource;
  /** Extra fields for GET /api/health (broker connected, devices online, ...). */
  health?: () => Record<string, unknown> | Promise<Record<string, unknown>>;
  /** The admin UI: answers GETs outside /api and /metrics (true when it answered). */
  ui?: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;
  /** Called after every change devices must receive (register moved, device door changed). */
  onRegisterChange?: () => void;
  now?: () => number;
}
