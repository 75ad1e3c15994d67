// `npm run example -- <name>` runs examples/dist/<name>.js (built from
// examples/src/<name>.ts by the setup); `npm run example` lists the examples
// and the README that shows each.
import { spawnSync } from 'node:child_process';
import { join, relative } from 'node:path';
import { exampleNames, markedBlocks, readmes, root } from './readme-examples.mjs';

const name = process.argv[2];
const names = exampleNames();
if (name === undefined || name === '--list') {
  const shownIn = new Map();
  for (const file of readmes()) {
    for (const b of markedBlocks(file).blocks) shownIn.set(b.name, [...(shownIn.get(b.name) ?? []), relative(root, file)]);
  }
  const width = Math.max(...names.map((n) => n.length));
  console.log('examples (npm run example -- <name>):');
  for (const n of names) console.log(`  ${n.padEnd(width)}  ${(shownIn.get(n) ?? ['examples/src']).join(', ')}`);
  process.exit(0);
}
if (!names.includes(name)) {
  console.error(`no example '${name}'; one of: ${names.join(', ')}`);
  process.exit(2);
}
const r = spawnSync(process.execPath, [join(root, 'examples', 'dist', `${name}.js`)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
