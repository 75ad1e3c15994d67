import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadBundle } from '../src/node-bundle.js';
import { eventually, killAll, startBuiltCli, within } from './cli-process.js';
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

  describe('the built troupe node', () => {
    afterEach(() => killAll());
    const bundle = fileURLToPath(new URL('../dist/node.cjs', import.meta.url));

    it("parses a node's command line itself, and leaves to cli.ts what it does not run", async () => {
      const run = loadBundle(bundle)!.runNodeCommand!;
      expect(run(['cluster', '--nodes', '3'])).toBeNull();
      expect(run(['node', '--help'])).toBeNull();
      expect(run(['node', '--name', 'x', '--store', 'sqlite:/tmp/troupe-never-opened.db'])).toBeNull();
      const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      try {
        expect(await run(['node', '--bogus'])).toBe(2);
        expect(String(stderr.mock.calls[0]?.[0])).toMatch(/^troupe: unknown option '--bogus'\nusage: troupe node/);
      } finally {
        stderr.mockRestore();
      }
    });

    it('loads msgpackr-extract and bufferutil as the addon files the install put, without their loaders', () => {
      const files = [...readFileSync(bundle, 'utf8').matchAll(/require\("([^"]+\.node)"\)/g)].map((m) => m[1]!);
      expect(files.map((f) => (f.includes('msgpackr-extract') ? 'msgpackr-extract' : f.includes('bufferutil') ? 'bufferutil' : f)).sort()).toEqual(['bufferutil', 'msgpackr-extract']);
      const load = createRequire(bundle);
      const [msgpackrExtract, bufferutil] = [files.find((f) => f.includes('msgpackr-extract'))!, files.find((f) => f.includes('bufferutil'))!].map((f) => load(f) as Record<string, unknown>);
      expect(typeof msgpackrExtract!['extractStrings']).toBe('function');
      expect(typeof bufferutil!['mask']).toBe('function');
    });

    it('runs from the bundle (its first start writes the code cache): two nodes mesh and answer a SendMessage across them', async () => {
      // The setup step built it; a build that made no bundle fails here rather than falling back unseen.
      expect(existsSync(bundle)).toBe(true);
      rmSync(`${bundle}.cache`, { force: true });
      const env = { TROUPE_COOKIE: randomBytes(16).toString('hex') };
      const flags = ['--port', '0', '--dist-port', '0', '--no-local-discovery'];
      const a = startBuiltCli(['node', '--name', 'bundle-a', ...flags], env);
      const readyA = await a.waitLine(/ ready bundle-a@/, 20_000);
      const b = startBuiltCli(['node', '--name', 'bundle-b', ...flags, '--join', /mesh=(ws:\/\/\S+)/.exec(readyA)![1]!], env);
      const httpB = /http=(http:\/\/\S+)/.exec(await b.waitLine(/ ready bundle-b@/, 20_000))![1]!;
      await a.waitLine(/ nodeup bundle-b@127\.0\.0\.1$/, 10_000);
      await b.waitLine(/ nodeup bundle-a@127\.0\.0\.1$/, 10_000);
      // Only the bundle's loader writes this file: the ES-module path never does.
      await eventually('the code cache written by a bundled start', () => existsSync(`${bundle}.cache`), 10_000);
      const digest = createHash('sha256').update(readFileSync(bundle)).digest();
      expect(readFileSync(`${bundle}.cache`).subarray(0, 32).equals(digest)).toBe(true);

      const rpc = async (method: string, params: object): Promise<Record<string, unknown>> => {
        const res = await fetch(`${httpB}/a2a`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
        const body = (await res.json()) as { result?: Record<string, unknown>; error?: { message: string } };
        if (body.result === undefined) throw new Error(`${method}: ${body.error?.message ?? 'no result'}`);
        return body.result;
      };
      // a must be a placement target in b's view before an agent can land there.
      const aAlive = async (): Promise<boolean> => {
        const info = (await rpc('GetClusterInfo', {})) as { members: { supervisor: { node: string; status: string }[] } };
        return info.members.supervisor.some((m) => m.node === 'bundle-a@127.0.0.1' && m.status === 'alive');
      };
      await eventually("a alive in b's supervisor members", aAlive, 10_000);
      // Names until one lands on a (placement is by hash): the call then crosses the mesh.
      let onA: string | null = null;
      for (let i = 0; i < 20 && onA === null; i++) {
        const started = await rpc('StartAgent', { name: `bundled${i}` });
        if (started.node === 'bundle-a@127.0.0.1') onA = String(started.name);
      }
      expect(onA).not.toBeNull();
      expect(await rpc('SendMessage', { agent: onA, action: 'echo', params: { text: 'hi' } })).toMatchObject({ status: 'queued', queueLength: 1 });
      for (const p of [a, b]) {
        p.child.kill('SIGTERM');
        expect((await within(p.exited, 12_000, 'exit after SIGTERM')).code).toBe(0);
      }
    });
  });
});
