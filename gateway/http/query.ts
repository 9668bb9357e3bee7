/** Query-string parameters with their problems collected, so a 400 lists every bad one. */
import type { Problem } from '../store/schemas.ts';
import { invalid } from './errors.ts';

export class QueryReader {
  readonly problems: Problem[] = [];
  constructor(private readonly params: URLSearchParams) {}

  str(name: string, max = 200): string | undefined {
    const v = this.params.get(name);
    if (v === null || v === '') return undefined;
    if (v.length > max) this.problems.push({ path: name, message: `longer than ${max} characters` });
    return v;
  }

  int(name: string, min: number, max: number): number | undefined {
    const v = this.str(name, 20);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.problems.push({ path: name, message: `expected an integer from ${min} to ${max}` });
      return undefined;
    }
    return n;
  }

  bool(name: string): boolean | undefined {
    const v = this.str(name, 10);
    if (v === undefined) return undefined;
    if (['true', '1', 'yes'].includes(v)) return true;
    if (['false', '0', 'no'].includes(v)) return false;
    this.problems.push({ path: name, message: 'expected true or false' });
    return undefined;
  }

  /** An ISO 8601 instant, a date (UTC midnight) or milliseconds since the epoch. */
  time(name: string): number | undefined {
    const v = this.str(name, 40);
    if (v === undefined) return undefined;
    const ms = /^\d+$/.test(v) ? Number(v) : /^\d{4}-\d{2}-\d{2}$/.test(v) ? Date.parse(`${v}T00:00:00Z`) : Date.parse(v);
    if (!Number.isFinite(ms)) {
      this.problems.push({ path: name, message: 'expected an ISO 8601 time, a date YYYY-MM-DD, or milliseconds' });
      return undefined;
    }
    return ms;
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T | undefined {
    const v = this.str(name, 40);
    if (v === undefined) return undefined;
    if (!(values as readonly string[]).includes(v)) {
      this.problems.push({ path: name, message: `expected one of ${values.join(', ')}` });
      return undefined;
    }
    return v as T;
  }

  /** Throws a 400 listing every problem found so far. */
  done(): void {
    if (this.problems.length) throw invalid(this.problems, 'invalid query parameters');
  }
}
