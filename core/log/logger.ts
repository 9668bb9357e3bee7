/**
 * Minimal structured logger. One line per record on stderr so stdout stays free for
 * machine-readable output (CLI JSON, `--json` figures). Level from PORTIER_LOG_LEVEL.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(module: string): Logger;
}

export interface LogRecord {
  level: LogLevel;
  module: string;
  msg: string;
  fields?: Record<string, unknown>;
}

type Sink = (rec: LogRecord) => void;

let globalLevel: LogLevel = (process.env.PORTIER_LOG_LEVEL as LogLevel) ?? (process.env.VITEST ? 'warn' : 'info');
const sinks: Sink[] = [];

/** Tests register a sink to assert that something was logged. Returns an unsubscribe function. */
export function addLogSink(sink: Sink): () => void {
  sinks.push(sink);
  return () => {
    const i = sinks.indexOf(sink);
    if (i >= 0) sinks.splice(i, 1);
  };
}

export function setLogLevel(level: LogLevel): void {
  globalLevel = level;
}

function write(rec: LogRecord): void {
  for (const s of sinks) s(rec);
  if (order[rec.level] < order[globalLevel]) return;
  const extra = rec.fields && Object.keys(rec.fields).length ? ' ' + JSON.stringify(rec.fields) : '';
  process.stderr.write(`${new Date().toISOString()} ${rec.level.toUpperCase().padEnd(5)} [${rec.module}] ${rec.msg}${extra}\n`);
}

export function createLogger(module: string): Logger {
  const mk = (level: LogLevel) => (msg: string, fields?: Record<string, unknown>) => write({ level, module, msg, fields });
  return {
    debug: mk('debug'),
    info: mk('info'),
    warn: mk('warn'),
    error: mk('error'),
    child: (sub: string) => createLogger(`${module}:${sub}`),
  };
}
