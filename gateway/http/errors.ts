/** Errors as JSON {error, message}: never a stack trace; store refusals keep their problem list. */
import { createLogger } from '../../core/log/logger.ts';
import { StoreError } from '../store/types.ts';
import type { Problem } from '../store/schemas.ts';

const log = createLogger('gateway-http');

/** Thrown by handlers (and allowed from injected provision/command) to answer with a status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly problems?: Problem[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const invalid = (problems: Problem[], message = 'the request has problems'): ApiError => new ApiError(400, 'invalid', message, problems);

export function errorBody(err: unknown, context: Record<string, unknown>): { status: number; body: Record<string, unknown>; headers: Record<string, string> } {
  if (err instanceof ApiError) {
    return { status: err.status, body: { error: err.code, message: err.message, ...(err.problems ? { problems: err.problems } : {}) }, headers: err.headers };
  }
  if (err instanceof StoreError) {
    const status = err.code === 'not_found' ? 404 : err.code === 'conflict' ? 409 : 400;
    return { status, body: { error: err.code, message: err.message, ...(err.problems.length ? { problems: err.problems } : {}) }, headers: {} };
  }
  // Anything else is ours to fix; the client gets no internals.
  log.error('request failed', { ...context, error: (err as Error)?.message, stack: (err as Error)?.stack });
  return { status: 500, body: { error: 'internal', message: 'internal error; see the gateway log' }, headers: {} };
}
