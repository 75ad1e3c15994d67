// The README code blocks that are examples come from examples/src/<name>.ts,
// so a snippet cannot drift from a file that CI runs. A block is marked by
// the line before its fence:
//
//   <!-- example: supervised-counter -->
//   ```ts
//   ...the whole of examples/src/supervised-counter.ts...
//   ```
//
// `node scripts/readme-examples.mjs` rewrites every marked block from its
// file; `--check` changes nothing and exits 1 naming each block that differs
// (the tests run it). Exported for the example runner's listing.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const examplesDir = join(root, 'examples', 'src');
const MARKER = /^<!-- example: ([a-z0-9-]+) -->$/;

/** Example names: one per examples/src/<name>.ts. */
export function exampleNames() {
  return readdirSync(examplesDir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
}

/** The root README and every package's and app's README. */
export function readmes() {
  const found = [join(root, 'README.md')];
  for (const group of ['packages', 'apps']) {
    for (const d of readdirSync(join(root, group)).sort()) found.push(join(root, group, d, 'README.md'));
  }
  found.push(join(root, 'bench', 'README.md'));
  return found.filter((f) => existsSync(f));
}

/**
 * Each marked block of one README: its example's name, and the text the README
 * should have. Throws on a marker without a fenced block or naming no file.
 */
export function markedBlocks(file) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const m = MARKER.exec(lines[i]);
    if (m === null) continue;
    const where = `${relative(root, file)}:${i + 1}`;
    const name = m[1];
    const source = join(examplesDir, `${name}.ts`);
    if (!existsSync(source)) throw new Error(`${where}: no example file examples/src/${name}.ts`);
    if (!/^```/.test(lines[i + 1] ?? '')) throw new Error(`${where}: the marker must be followed by a fenced code block`);
    let end = i + 2;
    while (end < lines.length && lines[end] !== '```') end++;
    if (end === lines.length) throw new Error(`${where}: unterminated code block`);
    blocks.push({ name, where, start: i + 2, end, want: readFileSync(source, 'utf8').replace(/\n+$/, '').split('\n') });
    i = end;
  }
  return { lines, blocks };
}

function main() {
  const check = process.argv.includes('--check');
  const drifted = [];
  for (const file of readmes()) {
    const { lines, blocks } = markedBlocks(file);
    let changed = false;
    // From the last block up, so earlier line numbers stay valid while splicing.
    for (const b of [...blocks].reverse()) {
      const have = lines.slice(b.start, b.end);
      if (have.join('\n') === b.want.join('\n')) continue;
      drifted.push(`${b.where} (${b.name})`);
      lines.splice(b.start, b.end - b.start, ...b.want);
      changed = true;
    }
    if (changed && !check) writeFileSync(file, lines.join('\n'));
  }
  if (check && drifted.length > 0) {
    console.error(`README code blocks differ from their example files (run node scripts/readme-examples.mjs):\n  ${drifted.reverse().join('\n  ')}`);
    process.exit(1);
  }
  if (!check) console.log(drifted.length === 0 ? 'README examples up to date' : `rewrote ${drifted.length} README block(s)`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
