import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { renderMarkdown, renderSvg, writeReport, type ReportMeta } from '../src/report.js';
import { formatTable, ratioOf, type Result } from '../src/runner.js';
import { metrics as localMetrics } from '../src/suites/local.js';
import { metrics as registryMetrics } from '../src/suites/registry.js';
import { metrics as remoteMetrics } from '../src/suites/remote.js';

const metricsOf = { local: localMetrics, registry: registryMetrics, remote: remoteMetrics };

const results = JSON.parse(readFileSync(new URL('./fixtures/results.json', import.meta.url), 'utf8')) as Result[];
const meta: ReportMeta = { date: '2026-11-22T10:00:00.000Z', node: 'v20.20.2', cpu: 'Test CPU @ 2.0GHz', cores: 2, quick: true, durationS: 42 };
const rateRows = results.filter((r) => ['msgs/s', 'rt/s', 'calls/s', 'procs/s'].includes(r.unit));

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The table rows of report.md as cells. */
function tableRows(md: string): string[][] {
  return md
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| Benchmark'))
    .map((l) =>
      l
        .slice(2, -2)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
}

describe('report.md', () => {
  const md = renderMarkdown(results, meta);

  it('one table: a row per figure with benchmark, figure, unit, ratio', () => {
    expect(md.match(/^\| Benchmark \| Figure \| Unit \| Ratio to baseline \|/gm)).toHaveLength(1);
    const rows = tableRows(md);
    expect(rows.map((r) => r[0])).toEqual(results.map((r) => r.name));
    const byName = new Map(rows.map((r) => [r[0], r]));
    expect(byName.get('local.oneway')!.slice(1, 4)).toEqual(['18.7M', 'msgs/s', '0.250']);
    expect(byName.get('local.call.p50')!.slice(1, 3)).toEqual(['1.58', 'µs']);
    expect(byName.get('local.bytesPerProcess')![3]).toBe('-'); // sizes have no ratio
    expect(byName.get('local.oneway')![4]).toBe('bare loop (75.0M msgs/s)');
    expect(byName.get('remote.oneway')![4]).toBe('remote.wsPipe (2.95M msgs/s)');
    expect(byName.get('remote.call.p50')![4]).toBe('remote.wsRoundTrip.p50 (69.2 µs)');
    expect(byName.get('local.oneway')!.slice(5, 8)).toEqual(['≥ 36.0M', '11.6M', 'MISS']);
    expect(byName.get('remote.call.p50')![7]).toBe('ok');
    expect(byName.get('local.pingpong')![7]).toContain('noisy (0.8 cores)');
  });

  it('a failed case: its row says so in one cell (pipes escaped, first line only)', () => {
    const row = tableRows(md).find((r) => r[0] === 'remote.callsInFlight')!;
    expect(row).toHaveLength(8);
    expect(row[1]).toBe('failed');
    expect(row[7]).toBe('FAILED: exit 1: Error: boom <with> "quotes" & \\| pipes');
  });

  it('header names the machine and the quick run; links the chart', () => {
    expect(md).toContain('Node v20.20.2 · Test CPU @ 2.0GHz × 2');
    expect(md).toContain('quick run');
    expect(md).toContain('![messages per second per benchmark](throughput.svg)');
  });
});

describe('throughput.svg', () => {
  const svg = renderSvg(results, meta);

  it('is well-formed XML with an <svg> root in the SVG namespace', () => {
    expect(XMLValidator.validate(svg)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' }).parse(svg) as { svg: Record<string, unknown> };
    expect(doc.svg['@xmlns']).toBe('http://www.w3.org/2000/svg');
    expect(Number(doc.svg['@width'])).toBeGreaterThan(0);
    expect(doc.svg['@viewBox']).toMatch(/^0 0 \d+ \d+$/);
  });

  it('one bar per throughput figure that has a value, labelled, with widths ordered like the values', () => {
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: () => true }).parse(svg) as {
      svg: { rect: { '@width': string; title?: string[] }[]; text: (string | { '#text': string })[] }[];
    };
    const bars = doc.svg[0]!.rect.filter((r) => r.title !== undefined);
    const withValue = rateRows.filter((r) => r.value !== null);
    expect(bars).toHaveLength(withValue.length);
    const widths = bars.map((b) => Number(b['@width']));
    const order = (xs: number[]): number[] => xs.map((_, i) => i).sort((a, b) => xs[a]! - xs[b]!);
    expect(order(widths)).toEqual(order(withValue.map((r) => r.value!)));
    const texts = doc.svg[0]!.text.map((t) => (typeof t === 'string' ? t : t['#text']));
    for (const r of rateRows) expect(texts).toContain(`${r.name} (${r.unit})`);
    expect(texts).toContain('failed'); // remote.callsInFlight
    expect(texts).toContain('Erlang/OTP 25, same machine');
    // Time and size figures are not throughput: not in the chart.
    expect(texts.some((t) => String(t).startsWith('local.call.p50'))).toBe(false);
  });

  it('escapes text and copes with no rate figures at all', () => {
    const odd: Result[] = [{ suite: 's<&>', name: 'a<b>&"c"', value: 5, unit: 'msgs/s', baseline: null, ratio: null }];
    expect(XMLValidator.validate(renderSvg(odd, meta))).toBe(true);
    const none = renderSvg([], meta);
    expect(XMLValidator.validate(none)).toBe(true);
    expect(none).toContain('no throughput figures in this run');
  });
});

it('writeReport writes results.json, report.md and throughput.svg side by side', () => {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-report-'));
  dirs.push(dir);
  const files = writeReport(results, dir, meta);
  expect(JSON.parse(readFileSync(files.results, 'utf8'))).toEqual(results);
  expect(readFileSync(files.report, 'utf8')).toBe(renderMarkdown(results, meta));
  expect(XMLValidator.validate(readFileSync(files.svg, 'utf8'))).toBe(true);
  expect(files.svg).toBe(join(dir, 'throughput.svg'));
});

describe('in-run baselines and ratios', () => {
  it('the SVG draws in-run baselines as hatched grey bars, Troupe figures in suite colours, with a legend entry', () => {
    const svg = renderSvg(results, meta);
    const bars = [...svg.matchAll(/<rect [^>]*?(fill="[^"]+")[^>]*><title>([^<]+)<\/title>/g)].map((m) => ({ fill: m[1]!, title: m[2]! }));
    const baselines = bars.filter((b) => b.title.includes('in-run baseline'));
    expect(baselines.map((b) => b.title.split(':')[0])).toEqual(['local.baseline', 'remote.wsPipe']);
    for (const b of baselines) expect(b.fill).toBe('fill="url(#baseline)"');
    for (const b of bars.filter((x) => !baselines.includes(x))) expect(b.fill).not.toBe('fill="url(#baseline)"');
    expect(svg).toContain('in-run baseline (not Troupe)');
  });

  it('report.md notes which rows are in-run baselines', () => {
    const rows = tableRows(renderMarkdown(results, meta));
    expect(rows.filter((r) => r[7]!.includes('in-run baseline')).map((r) => r[0])).toEqual(['local.baseline', 'remote.wsPipe']);
  });

  it('the terminal table names every column, the last one "note"', () => {
    const [head] = formatTable([...results]).split('\n');
    expect(head!.trim().split(/\s+/)).toEqual(['name', 'value', 'unit', 'target', 'Erlang', 'ratio', 'note']);
  });

  it('no ratio for times set by timers or the network, nor for B/s; one for CPU-bound times', () => {
    expect(ratioOf(2048, 'B/s', 75e6)).toBeNull();
    expect(ratioOf(1.5, 'µs', 75e6)).toBeCloseTo(112.5);
    for (const [suite, name] of [
      ['remote', 'remote.nodedown.sigstop'],
      ['remote', 'remote.nodedown.sigkill'],
      ['registry', 'registry.visibility.p99'],
      ['local', 'local.lagUnderFlood'],
    ] as const) {
      expect(metricsOf[suite][name]?.ratio, name).toBe(false);
    }
    expect(metricsOf.registry['registry.idleBytesPerSec']?.unit).toBe('B/s');
    expect(metricsOf.local['local.call.p50']?.ratio).toBeUndefined();
  });
});
