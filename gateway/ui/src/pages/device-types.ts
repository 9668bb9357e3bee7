/** Shapes of GET /api/devices and GET /api/doors as the devices page reads them (gateway/http/present.ts). */

export interface DoorStatus {
  id?: string;
  state?: string;
  open?: boolean | null;
  /** 'held_open', 'forced_open' while raised. */
  alarms?: string[];
}

export interface Device {
  id: string;
  name: string;
  doorId: string | null;
  online: boolean;
  lastSeen: string | null;
  joined: boolean;
  versions: { software?: string; models?: Record<string, string> | string } | null;
  gallerySize: number | null;
  outboxDepth: number | null;
  door: DoorStatus | null;
  camera: { status?: string; driver?: string } | null;
  sync: { cursor: number | null; behind: number | null; snapshotRequired: boolean };
}

export interface Door {
  id: string;
  name: string;
  devices: string[];
}

export interface PersonOption {
  id: string;
  name: string;
  employeeNo: string | null;
  active: boolean;
}

/** The door's name when the gateway knows it, else its id. */
export const doorName = (doors: Door[], id: string | null | undefined): string => (id ? (doors.find((d) => d.id === id)?.name ?? id) : '');
