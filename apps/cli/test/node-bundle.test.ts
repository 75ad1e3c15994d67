import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBundle } from '../src/node-bundle.js';
import type { NodeCliOptions } from '../src/args.js';

const opts = {} as NodeCliOptions;

function bundleFile(body: string): string {
  const f = join(mkdtempSync(join(tmpdir(), 'troupe-bundle-')), 'node.cjs');
  writeFileSync(f, body);
  return f;
}

describe('the troupe node bundle and its code cache', () => {
  it('runs the bundle\'s runNode; the first load writes the cache, the next uses it', async () => {
    const f = bundleFile("exports.runNode = async () => 7;\nfunction unused(x) { return x * 2; }\n");
    const first = loadBundle(f)!;
    expect(first.cacheUsed).toBe(false);
    expect(await first.runNode(opts)).toBe(7);
    first.saveCache();
    const cache = readFileSync(`${f}.cache`);
    const second = loadBundle(f)!;
    expect(second.cacheUsed).toBe(true);
    expect(await second.runNode(opts)).toBe(7);
    second.saveCache(); // a cache that was used is not written again
    expect(readFileSync(`${f}.cache`).equals(cache)).toBe(true);
  });

  it('a cache made from other contents is not used, even of the same length', async () => {
    const f = bundleFile('exports.runNode = async () => 1;\n');
    loadBundle(f)!.saveCache();
    writeFileSync(f, 'exports.runNode = async () => 2;\n');
    const b = loadBundle(f)!;
    expect(b.cacheUsed).toBe(false);
    expect(await b.runNode(opts)).toBe(2);
  });

  it('no bundle, or one without runNode: null (the caller loads the ES modules)', () => {
    expect(loadBundle(join(tmpdir(), 'no-such-dir-troupe', 'node.cjs'))).toBeNull();
    expect(loadBundle(bundleFile('exports.other = 1;\n'))).toBeNull();
  });
});
