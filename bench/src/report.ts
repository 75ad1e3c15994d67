/**
 * The benchmark report: `report.md` (one table) and `throughput.svg` (a bar
 * chart written by hand, so it needs no plotting library and opens in any
 * browser or Markdown viewer). Pure functions of results.json rows, so they
 * are tested on a fixture.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fmt, NOISY_CORES, type Result } from './runner.js';

export interface ReportMeta {
  /** ISO date of the run. */
  date: string;
  node: string;
  cpu: string;
  cores: number;
  quick: boolean;
  durationS: number | null;
}

export function currentMeta(quick: boolean, durationS: number | null): ReportMeta {
  const c = cpus();
  return { date: new Date().toISOString(), node: process.version, cpu: c[0]?.model.trim() ?? 'unknown', cores: c.length, quick, durationS };
}

const RATE_UNITS = new Set(['msgs/s', 'rt/s', 'calls/s', 'procs/s']);

function isRate(r: Result): boolean {
  return RATE_UNITS.has(r.unit);
}

/** A reference measured in the run (bare loop, bare pipe), not a Troupe figure; older results.json rows lack the flag but are their own baseline. */
export function isInRunBaseline(r: Result): boolean {
  return r.inRunBaseline === true || (r.ratio === 1 && r.baseline !== null && r.baseline === r.value);
}

/** What a row's ratio is relative to: a named figure of the same run where one matches, else the bare loop. */
function baselineLabel(r: Result, all: readonly Result[]): string {
  if (r.baseline === null || r.ratio === null) return '-';
  const named = all.find((x) => x !== r && x.suite === r.suite && x.value === r.baseline);
  if (named === undefined && r.value === r.baseline) return 'this row is the baseline';
  return named !== undefined ? `${named.name} (${fmt(r.baseline)} ${named.unit})` : `bare loop (${fmt(r.baseline)} msgs/s)`;
}

function note(r: Result): string {
  if (r.value === null) return `FAILED: ${(r.error ?? '').split('\n')[0]!.replace(/\|/g, '\\|').slice(0, 120)}`;
  const parts: string[] = [];
  if (isInRunBaseline(r)) parts.push('in-run baseline');
  if (r.target !== undefined) parts.push((r.target.op === '>=' ? r.value >= r.target.value : r.value <= r.target.value) ? 'ok' : 'MISS');
  if (r.noise !== undefined && r.noise >= NOISY_CORES) parts.push(`noisy (${r.noise.toFixed(1)} cores)`);
  return parts.join(', ');
}

/** report.md: a header, one table, how to read the ratio, the chart. */
export function renderMarkdown(results: readonly Result[], meta: ReportMeta): string {
  const lines = [
    '# Troupe benchmark report',
    '',
    `${meta.date.slice(0, 19).replace('T', ' ')} UTC · Node ${meta.node} · ${meta.cpu} × ${meta.cores}` +
      `${meta.quick ? ' · **quick run** (sizes ~1/10, 3 runs: a smoke check, not figures to quote)' : ''}` +
      `${meta.durationS !== null ? ` · ${meta.durationS.toFixed(0)} s` : ''}`,
    '',
    '| Benchmark | Figure | Unit | Ratio to baseline | Baseline (same run) | Target | Erlang/OTP 25 | Note |',
    '|---|--:|---|--:|---|--:|--:|---|',
  ];
  for (const r of results) {
    const target = r.target === undefined ? '' : `${r.target.op === '>=' ? '≥' : '≤'} ${fmt(r.target.value)}`;
    lines.push(
      `| ${r.name} | ${r.value === null ? 'failed' : fmt(r.value)} | ${r.unit} | ${fmt(r.ratio)} | ${baselineLabel(r, results)} | ${target} | ${fmt(r.erlang)} | ${note(r)} |`,
    );
  }
  lines.push(
    '',
    'Ratio: each suite measures its own baseline in the same run on the same machine, so ratios compare across machines.',
    'Rates: figure ÷ baseline (higher is better). Times: figure in seconds × baseline msgs/s, i.e. bare dispatches per',
    'operation (lower is better). Rows whose baseline is another figure (remote vs the bare WebSocket pipe) divide by it.',
    'Times set by timers or the network (failure detection, sync, event-loop lag) and sizes have no ratio. "noisy": other processes used that many CPU cores during the case; read it as a lower bound.',
    '',
    '![messages per second per benchmark](throughput.svg)',
    '',
  );
  return lines.join('\n');
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** 10^d as an axis label: 1, 10, 100, 1k, ..., 100M, 1G. */
function decade(d: number): string {
  const suffix = ['', 'k', 'M', 'G', 'T'][Math.floor(d / 3)] ?? `e${d - (d % 3)}`;
  return d < 0 ? String(10 ** d) : `${10 ** (d % 3)}${suffix}`;
}

const SUITE_COLORS = ['#3b6fd4', '#e07b24', '#2f9e6b', '#9b51c9', '#c94c4c'];

/**
 * throughput.svg: one horizontal bar per rate figure (msgs/s, rt/s, calls/s,
 * procs/s), log scale (figures span 1e5-1e8), the value at the bar's end,
 * Erlang/OTP 25's figure as a black tick where the suite has one. In-run
 * baselines (what ratios divide by, not Troupe) are hatched grey bars.
 */
export function renderSvg(results: readonly Result[], meta: ReportMeta): string {
  const rows = results.filter(isRate);
  const values = rows.map((r) => r.value).filter((v): v is number => v !== null && v > 0);
  const erl = rows.map((r) => r.erlang).filter((v): v is number => v !== undefined && v > 0);
  const all = [...values, ...erl];
  const lo = all.length === 0 ? 0 : Math.floor(Math.log10(Math.min(...all)));
  const hi = all.length === 0 ? 1 : Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...all))));
  const labelW = 230;
  const barW = 440;
  const valueW = 130;
  const rowH = 24;
  const top = 58;
  const width = labelW + barW + valueW;
  const height = top + Math.max(rows.length, 1) * rowH + 48;
  const x = (v: number): number => labelW + ((Math.log10(v) - lo) / (hi - lo)) * barW;
  // Suite colours are for Troupe's figures only.
  const suites = [...new Set(rows.filter((r) => !isInRunBaseline(r)).map((r) => r.suite))];
  const color = (suite: string): string => SUITE_COLORS[suites.indexOf(suite) % SUITE_COLORS.length]!;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>Troupe throughput per benchmark (log scale)</title>`,
    `<defs><pattern id="baseline" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#e4e4e4"/><line x1="0" y1="0" x2="0" y2="6" stroke="#9a9a9a" stroke-width="2"/></pattern></defs>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="bold">Troupe throughput per benchmark (log scale)</text>`,
    `<text x="12" y="40" fill="#555555">${esc(`${meta.date.slice(0, 10)} · Node ${meta.node} · ${meta.cpu} × ${meta.cores}${meta.quick ? ' · quick run' : ''}`)}</text>`,
  ];
  // Decade grid lines, labelled at the bottom.
  const axisY = top + rows.length * rowH + 6;
  for (let d = lo; d <= hi; d++) {
    const gx = x(10 ** d).toFixed(1);
    out.push(`<line x1="${gx}" y1="${top - 4}" x2="${gx}" y2="${axisY}" stroke="#dddddd"/>`);
    out.push(`<text x="${gx}" y="${axisY + 14}" text-anchor="middle" fill="#555555">${decade(d)}</text>`);
  }
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    out.push(`<text x="${labelW - 8}" y="${y + 15}" text-anchor="end">${esc(`${r.name} (${r.unit})`)}</text>`);
    if (r.value === null || r.value <= 0) {
      out.push(`<text x="${labelW + 4}" y="${y + 15}" fill="#c0392b">failed</text>`);
      return;
    }
    const w = Math.max(1, x(r.value) - labelW);
    const base = isInRunBaseline(r);
    const paint = base ? 'fill="url(#baseline)" stroke="#7a7a7a"' : `fill="${color(r.suite)}"`;
    const title = base ? `${r.name}: ${fmt(r.value)} ${r.unit} (in-run baseline, not Troupe)` : `${r.name}: ${fmt(r.value)} ${r.unit}`;
    out.push(`<rect x="${labelW}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowH - 8}" ${paint}><title>${esc(title)}</title></rect>`);
    out.push(`<text x="${(labelW + w + 6).toFixed(1)}" y="${y + 15}">${esc(fmt(r.value))}</text>`);
    if (r.erlang !== undefined && r.erlang > 0) {
      const ex = x(r.erlang).toFixed(1);
      out.push(`<line x1="${ex}" y1="${y + 1}" x2="${ex}" y2="${y + rowH - 1}" stroke="#000000" stroke-width="2"><title>${esc(`Erlang/OTP 25: ${fmt(r.erlang)} ${r.unit}`)}</title></line>`);
    }
  });
  if (rows.length === 0) out.push(`<text x="${labelW}" y="${top + 15}" fill="#555555">no throughput figures in this run</text>`);
  // Legend: suites, then the Erlang tick.
  let lx = 12;
  const ly = height - 12;
  for (const s of suites) {
    out.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${color(s)}"/>`);
    out.push(`<text x="${lx + 16}" y="${ly}">${esc(s)}</text>`);
    lx += 30 + s.length * 7;
  }
  if (rows.some(isInRunBaseline)) {
    out.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="url(#baseline)" stroke="#7a7a7a"/>`);
    out.push(`<text x="${lx + 16}" y="${ly}">in-run baseline (not Troupe)</text>`);
    lx += 190;
  }
  if (erl.length > 0) {
    out.push(`<line x1="${lx + 6}" y1="${ly - 11}" x2="${lx + 6}" y2="${ly + 1}" stroke="#000000" stroke-width="2"/>`);
    out.push(`<text x="${lx + 14}" y="${ly}">Erlang/OTP 25, same machine</text>`);
  }
  out.push('</svg>', '');
  return out.join('\n');
}

export interface ReportFiles {
  results: string;
  report: string;
  svg: string;
}

/** Writes results.json, report.md and throughput.svg into `dir`. */
export function writeReport(results: readonly Result[], dir: string, meta: ReportMeta, resultsName = 'results.json'): ReportFiles {
  mkdirSync(dir, { recursive: true });
  const files = { results: join(dir, resultsName), report: join(dir, 'report.md'), svg: join(dir, 'throughput.svg') };
  writeFileSync(files.results, JSON.stringify(results, null, 2) + '\n');
  writeFileSync(files.report, renderMarkdown(results, meta));
  writeFileSync(files.svg, renderSvg(results, meta));
  return files;
}
