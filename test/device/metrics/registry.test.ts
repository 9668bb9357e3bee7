import { describe, expect, it } from 'vitest';
import { Registry, prometheusContentType } from '../../../device/metrics/registry.ts';
import { escapeHelp, escapeLabelValue, formatValue } from '../../../device/metrics/format.ts';

describe('metrics registry: exposition format 0.0.4', () => {
  it('renders a labelled counter with HELP and TYPE lines', () => {
    const r = new Registry();
    const c = r.counter({ name: 'jobs_total', help: 'Jobs done.', labelNames: ['kind'] });
    c.inc({ kind: 'a' });
    c.inc({ kind: 'a' }, 2);
    c.inc({ kind: 'b' });
    expect(r.render()).toBe('# HELP jobs_total Jobs done.\n# TYPE jobs_total counter\njobs_total{kind="a"} 3\njobs_total{kind="b"} 1\n');
  });

  it('an unlabelled metric shows 0 before its first event; a labelled one only its HELP/TYPE', () => {
    const r = new Registry();
    r.counter({ name: 'x_total', help: 'x' });
    r.gauge({ name: 'g', help: 'g', labelNames: ['l'] });
    expect(r.render()).toBe('# HELP x_total x\n# TYPE x_total counter\nx_total 0\n# HELP g g\n# TYPE g gauge\n');
  });

  it('escapes label values and help text', () => {
    const r = new Registry();
    const g = r.gauge({ name: 'weird', help: 'line one\nback\\slash "quoted"', labelNames: ['v'] });
    g.set({ v: 'a"b\\c\nd' }, 1);
    const text = r.render();
    expect(text).toContain('# HELP weird line one\\nback\\\\slash "quoted"\n');
    expect(text).toContain('weird{v="a\\"b\\\\c\\nd"} 1\n');
    expect(escapeHelp('a\\b\nc')).toBe('a\\\\b\\nc');
    expect(escapeLabelValue('"')).toBe('\\"');
  });

  it('renders special float values as Prometheus spells them', () => {
    expect([formatValue(Infinity), formatValue(-Infinity), formatValue(NaN), formatValue(0.25), formatValue(3)]).toEqual([
      '+Inf', '-Inf', 'NaN', '0.25', '3',
    ]);
  });

  it('renders a histogram with cumulative buckets, +Inf, _sum and _count', () => {
    const r = new Registry();
    const h = r.histogram({ name: 'lat_seconds', help: 'Latency.', labelNames: ['stage'], buckets: [0.1, 0.5, 1] });
    for (const v of [0.05, 0.1, 0.3, 0.7, 2]) h.observe({ stage: 'detect' }, v);
    expect(r.render()).toBe(
      [
        '# HELP lat_seconds Latency.',
        '# TYPE lat_seconds histogram',
        'lat_seconds_bucket{stage="detect",le="0.1"} 2',
        'lat_seconds_bucket{stage="detect",le="0.5"} 3',
        'lat_seconds_bucket{stage="detect",le="1"} 4',
        'lat_seconds_bucket{stage="detect",le="+Inf"} 5',
        'lat_seconds_sum{stage="detect"} 3.15',
        'lat_seconds_count{stage="detect"} 5',
        '',
      ].join('\n'),
    );
    expect(h.get({ stage: 'detect' }).buckets.map((b) => b.count)).toEqual([2, 3, 4]);
  });

  it('an unlabelled histogram renders empty buckets at zero', () => {
    const r = new Registry();
    r.histogram({ name: 'h', help: 'h', buckets: [1] });
    expect(r.render()).toBe('# HELP h h\n# TYPE h histogram\nh_bucket{le="1"} 0\nh_bucket{le="+Inf"} 0\nh_sum 0\nh_count 0\n');
  });

  it('gauges set, inc, dec, and read a value at scrape time through collect', () => {
    const r = new Registry();
    let depth = 7;
    const g = r.gauge({ name: 'depth', help: 'd', collect: (gg) => gg.set(undefined, depth) });
    expect(r.render()).toContain('\ndepth 7\n');
    depth = 2;
    expect(r.render()).toContain('\ndepth 2\n');
    const h = r.gauge({ name: 'temp', help: 't' });
    h.set(undefined, 5);
    h.inc();
    h.dec(undefined, 3);
    expect(h.get()).toBe(3);
    expect(g.get()).toBe(2);
  });

  it('startTimer observes elapsed seconds', async () => {
    const r = new Registry();
    const h = r.histogram({ name: 't', help: 't', buckets: [10] });
    const stop = h.startTimer();
    await new Promise((res) => setTimeout(res, 15));
    const s = stop();
    expect(s).toBeGreaterThan(0.01);
    expect(h.get().count).toBe(1);
    expect(h.get().sum).toBe(s);
  });

  it('rejects misuse with clear errors', () => {
    const r = new Registry();
    const c = r.counter({ name: 'c_total', help: 'c', labelNames: ['a'] });
    expect(() => c.inc({ a: 'x' }, -1)).toThrow(/only goes up/);
    expect(() => c.inc({} as { a: string })).toThrow(/missing label "a"/);
    expect(() => c.inc({ a: 'x', b: 'y' } as { a: string })).toThrow(/unknown label "b"/);
    expect(() => r.counter({ name: 'c_total', help: 'again' })).toThrow(/already registered/);
    expect(() => r.counter({ name: '1bad', help: '' })).toThrow(/invalid metric name/);
    expect(() => r.gauge({ name: 'g', help: '', labelNames: ['__x'] })).toThrow(/invalid label name/);
    expect(() => r.histogram({ name: 'h1', help: '', labelNames: ['le'], buckets: [1] })).toThrow(/reserved/);
    expect(() => r.histogram({ name: 'h2', help: '', buckets: [1, 1] })).toThrow(/strictly increasing/);
    expect(() => r.histogram({ name: 'h3', help: '', buckets: [1, Infinity] })).toThrow(/finite/);
    expect(() => r.histogram({ name: 'h4', help: '', buckets: [1] }).observe(undefined, NaN)).toThrow(/NaN/);
    // a rejected call changes nothing that was already counted
    c.inc({ a: 'x' });
    expect(c.get({ a: 'x' })).toBe(1);
  });

  it('exposes the 0.0.4 content type', () => {
    expect(prometheusContentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  });
});
