/**
 * A small Prometheus client: counters, gauges and fixed-bucket histograms with labels, rendered
 * in the text exposition format 0.0.4. Label names are fixed when a metric is created; using a
 * metric with missing or extra labels is a programming error and throws.
 */
import { escapeHelp, formatLabels, formatValue, labelNamePattern, metricNamePattern } from './format.ts';

export const prometheusContentType = 'text/plain; version=0.0.4; charset=utf-8';

/** Label values keyed by the metric's label names. */
export type Labels<L extends string = string> = Readonly<Record<L, string | number>>;

interface MetricOptions<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
}

abstract class Metric<L extends string, S> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  protected readonly series = new Map<string, { values: string[]; state: S }>();
  abstract readonly type: 'counter' | 'gauge' | 'histogram';

  constructor(opts: MetricOptions<L>, reserved: readonly string[] = []) {
    if (!metricNamePattern.test(opts.name)) throw new Error(`invalid metric name "${opts.name}"`);
    this.name = opts.name;
    this.help = opts.help;
    this.labelNames = [...(opts.labelNames ?? [])];
    for (const l of this.labelNames) {
      if (!labelNamePattern.test(l) || l.startsWith('__')) throw new Error(`${opts.name}: invalid label name "${l}"`);
      if (reserved.includes(l)) throw new Error(`${opts.name}: label name "${l}" is reserved`);
    }
    if (new Set(this.labelNames).size !== this.labelNames.length) throw new Error(`${opts.name}: duplicate label names`);
  }

  protected abstract initial(): S;

  protected entry(labels: Labels<L> | undefined): S {
    const given = (labels ?? {}) as Record<string, string | number | undefined>;
    const values = this.labelNames.map((n) => {
      const v = given[n as string];
      if (v === undefined) throw new Error(`${this.name}: missing label "${n}"`);
      return String(v);
    });
    for (const k of Object.keys(given)) {
      if (!(this.labelNames as readonly string[]).includes(k)) throw new Error(`${this.name}: unknown label "${k}"`);
    }
    const key = JSON.stringify(values);
    let e = this.series.get(key);
    if (!e) {
      e = { values, state: this.initial() };
      this.series.set(key, e);
    }
    return e.state;
  }

  /** Sample lines (no HELP/TYPE). */
  abstract samples(): string[];

  render(): string {
    return [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`, ...this.samples()].join('\n') + '\n';
  }

  reset(): void {
    this.series.clear();
  }
}

export class Counter<L extends string = never> extends Metric<L, { v: number }> {
  readonly type = 'counter' as const;
  protected initial() {
    return { v: 0 };
  }
  inc(labels?: Labels<L>, by = 1): void {
    if (!(by >= 0)) throw new Error(`${this.name}: a counter only goes up (got ${by})`);
    this.entry(labels).v += by;
  }
  /** Create the series at 0 so dashboards see it before the first event. */
  init(labels?: Labels<L>): void {
    this.entry(labels);
  }
  get(labels?: Labels<L>): number {
    return this.entry(labels).v;
  }
  samples(): string[] {
    if (this.labelNames.length === 0 && this.series.size === 0) this.entry(undefined);
    return [...this.series.values()].map((e) => `${this.name}${formatLabels(this.labelNames, e.values)} ${formatValue(e.state.v)}`);
  }
}

export class Gauge<L extends string = never> extends Metric<L, { v: number }> {
  readonly type = 'gauge' as const;
  private readonly collect?: (g: Gauge<L>) => void;
  constructor(opts: MetricOptions<L> & { collect?: (g: Gauge<L>) => void }) {
    super(opts);
    this.collect = opts.collect;
  }
  protected initial() {
    return { v: 0 };
  }
  set(labels: Labels<L> | undefined, value: number): void {
    this.entry(labels).v = value;
  }
  inc(labels?: Labels<L>, by = 1): void {
    this.entry(labels).v += by;
  }
  dec(labels?: Labels<L>, by = 1): void {
    this.entry(labels).v -= by;
  }
  get(labels?: Labels<L>): number {
    return this.entry(labels).v;
  }
  samples(): string[] {
    // A collect callback reads the current value at scrape time (e.g. a queue length).
    this.collect?.(this);
    if (this.labelNames.length === 0 && this.series.size === 0) this.entry(undefined);
    return [...this.series.values()].map((e) => `${this.name}${formatLabels(this.labelNames, e.values)} ${formatValue(e.state.v)}`);
  }
}

interface HistogramState {
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram<L extends string = never> extends Metric<L, HistogramState> {
  readonly type = 'histogram' as const;
  readonly buckets: readonly number[];
  constructor(opts: MetricOptions<L> & { buckets: readonly number[] }) {
    super(opts, ['le']);
    const b = [...opts.buckets];
    if (b.length === 0) throw new Error(`${opts.name}: a histogram needs at least one bucket`);
    for (let i = 0; i < b.length; i++) {
      if (!Number.isFinite(b[i])) throw new Error(`${opts.name}: bucket bounds must be finite (+Inf is implicit)`);
      if (i > 0 && !(b[i] > b[i - 1])) throw new Error(`${opts.name}: bucket bounds must be strictly increasing`);
    }
    this.buckets = b;
  }
  protected initial(): HistogramState {
    return { counts: new Array(this.buckets.length).fill(0), sum: 0, count: 0 };
  }
  observe(labels: Labels<L> | undefined, value: number): void {
    if (Number.isNaN(value)) throw new Error(`${this.name}: cannot observe NaN`);
    const s = this.entry(labels);
    // Per-bucket (non-cumulative) counts; cumulated when rendered.
    const i = this.buckets.findIndex((b) => value <= b);
    if (i >= 0) s.counts[i]++;
    s.sum += value;
    s.count++;
  }
  /** Starts a timer; the returned function observes the elapsed seconds and returns them. */
  startTimer(labels?: Labels<L>): () => number {
    const t0 = process.hrtime.bigint();
    return () => {
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      this.observe(labels, s);
      return s;
    };
  }
  init(labels?: Labels<L>): void {
    this.entry(labels);
  }
  get(labels?: Labels<L>): { sum: number; count: number; buckets: { le: number; count: number }[] } {
    const s = this.entry(labels);
    let acc = 0;
    return { sum: s.sum, count: s.count, buckets: this.buckets.map((le, i) => ({ le, count: (acc += s.counts[i]) })) };
  }
  samples(): string[] {
    if (this.labelNames.length === 0 && this.series.size === 0) this.entry(undefined);
    const out: string[] = [];
    for (const { values, state } of this.series.values()) {
      let acc = 0;
      this.buckets.forEach((b, i) => {
        acc += state.counts[i];
        out.push(`${this.name}_bucket${formatLabels(this.labelNames, values, ['le', formatValue(b)])} ${acc}`);
      });
      out.push(`${this.name}_bucket${formatLabels(this.labelNames, values, ['le', '+Inf'])} ${state.count}`);
      out.push(`${this.name}_sum${formatLabels(this.labelNames, values)} ${formatValue(state.sum)}`);
      out.push(`${this.name}_count${formatLabels(this.labelNames, values)} ${state.count}`);
    }
    return out;
  }
}

type AnyMetric = Counter<string> | Gauge<string> | Histogram<string>;

export class Registry {
  private readonly metrics = new Map<string, AnyMetric>();

  private add<M extends AnyMetric>(m: M): M {
    if (this.metrics.has(m.name)) throw new Error(`metric "${m.name}" is already registered`);
    this.metrics.set(m.name, m);
    return m;
  }

  counter<L extends string = never>(opts: MetricOptions<L>): Counter<L> {
    return this.add(new Counter<L>(opts) as unknown as AnyMetric) as unknown as Counter<L>;
  }
  gauge<L extends string = never>(opts: MetricOptions<L> & { collect?: (g: Gauge<L>) => void }): Gauge<L> {
    return this.add(new Gauge<L>(opts) as unknown as AnyMetric) as unknown as Gauge<L>;
  }
  histogram<L extends string = never>(opts: MetricOptions<L> & { buckets: readonly number[] }): Histogram<L> {
    return this.add(new Histogram<L>(opts) as unknown as AnyMetric) as unknown as Histogram<L>;
  }

  get(name: string): AnyMetric | undefined {
    return this.metrics.get(name);
  }

  /** The whole registry in text exposition format 0.0.4. */
  render(): string {
    return [...this.metrics.values()].map((m) => m.render()).join('');
  }
}
