import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { alive, eventually, killAll, startCli, startCluster, within } from './cli-process.js';

const leftovers: number[] = [];
afterEach(() => {
  killAll();
  // Safety net: node processes of a failed run (they also stop by themselves when the cluster process dies).
  for (const pid of leftovers.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

it('troupe cluster --nodes 2: status shows both nodes up and meshed; SIGINT stops every node', async () => {
  const { p, base } = await startCluster(2);
  // A status block whose rows show both nodes up, each connected to the other.
  const row = (name: string) => new RegExp(`^\\s+${name}@127\\.0\\.0\\.1\\s+up\\s+(\\d+)\\s+:${base + Number(name.slice(1)) - 1}\\s.*\\s1/1$`);
  const head = await p.waitLine(/^status \d\d:\d\d:\d\d\s+2\/2 nodes up/, 15_000);
  const from = p.lines.indexOf(head);
  const r1 = await p.waitLine(row('n1'), 15_000, from);
  const r2 = await p.waitLine(row('n2'), 15_000, from);
  const pids = [r1, r2].map((l) => Number(/\s+up\s+(\d+)/.exec(l)![1]));
  leftovers.push(...pids);
  for (const pid of pids) expect(alive(pid)).toBe(true);

  // The gateways answer on base-port + i.
  for (let i = 0; i < 2; i++) {
    const h = (await (await fetch(`http://127.0.0.1:${base + i}/health`)).json()) as { status: string; node: string; nodes: string[] };
    expect(h).toMatchObject({ status: 'ok', node: `n${i + 1}@127.0.0.1` });
  }

  // Durable agents by default: one SQLite file in a directory made for the run, given to every node.
  const storeLine = p.lines.find((l) => l.startsWith('durable agents: store sqlite:'));
  const dbPath = /^durable agents: store sqlite:(\S+) \(removed when the cluster stops\)$/.exec(storeLine ?? '')?.[1];
  expect(dbPath, p.lines.slice(0, 5).join('\n')).toBeDefined();
  expect(existsSync(dbPath!)).toBe(true);
  expect(p.lines.filter((l) => l.includes(`store sqlite:${dbPath}: agents are durable`))).toHaveLength(2);

  p.child.kill('SIGINT');
  const { code } = await within(p.exited, 20_000, 'cluster exit after SIGINT');
  expect(code).toBe(0);
  expect(p.lines.filter((l) => /^\s+n\d@127\.0\.0\.1 \(os pid \d+\) stopped: exit 0$/.test(l))).toHaveLength(2);
  expect(existsSync(dirname(dbPath!))).toBe(false); // the run's directory went with the cluster
  for (const pid of pids) expect(alive(pid), `node process ${pid} left behind`).toBe(false);
  for (let i = 0; i < 2; i++) await expect(fetch(`http://127.0.0.1:${base + i}/health`)).rejects.toThrow();
});

it('troupe cluster on a taken base port: one line, exit 1, nothing started', async () => {
  const a = startCli(['node', '--name', 'holder', '--port', '0', '--dist-port', '0']);
  const port = /http=http:\/\/127\.0\.0\.1:(\d+)/.exec(await a.waitLine(/ ready holder@/, 20_000))![1]!;
  const p = startCli(['cluster', '--nodes', '2', '--base-port', port]);
  expect((await within(p.exited, 15_000, 'exit')).code).toBe(1);
  expect(p.stderr).toEqual([`troupe: port ${port} on 127.0.0.1 is in use: pick another --base-port`]);
  a.child.kill('SIGTERM');
  await within(a.exited, 12_000, 'holder exit');
});

it('a cluster process that is SIGKILLed leaves no node behind (each node stops when its parent goes)', async () => {
  // --store none: a SIGKILLed cluster command cannot remove its run directory (nothing to leave behind here).
  const { p } = await startCluster(2, { args: ['--store', 'none'] });
  expect(p.lines).toContain('agents in memory (--store none)');
  const rows = await Promise.all(['n1', 'n2'].map((n) => p.waitLine(new RegExp(`^\\s+${n}@127\\.0\\.0\\.1\\s+up\\s+\\d+`), 15_000)));
  const pids = rows.map((l) => Number(/\s+up\s+(\d+)/.exec(l)![1]));
  leftovers.push(...pids);
  p.child.kill('SIGKILL');
  await within(p.exited, 5000, 'cluster exit');
  // The nodes notice (IPC channel closed) and stop; they are not our children, so no exit event: poll, bounded.
  await eventually('every node process gone', () => !pids.some(alive), 15_000);
  for (const pid of pids) expect(alive(pid), `node process ${pid} left behind`).toBe(false);
});

it('troupe cluster --json: stdout is one JSON object per line (up, status, stopped), the nodes\' logs on stderr', async () => {
  // The nodes log JSON here (their stdout is a pipe and nothing asks for pretty lines).
  const { p, base } = await startCluster(2, { args: ['--json'], env: { TROUPE_LOG_FORMAT: '' }, upLine: (l) => l.startsWith('{"event":"up"') });
  type Member = { name: string; osPid: number; state: string; http?: string; connected?: string[] };
  const events = (): { event: string; members: Member[] }[] => p.stdout.map((l) => JSON.parse(l) as { event: string; members: Member[] });
  const meshed = await p.waitLine((l) => {
    if (!l.startsWith('{"event":"status"')) return false;
    const ms = (JSON.parse(l) as { members: Member[] }).members;
    return ms.length === 2 && ms.every((m) => m.state === 'up' && m.connected?.length === 1);
  }, 15_000);
  const members = (JSON.parse(meshed) as { members: Member[] }).members;
  expect(members.map((m) => [m.name, m.http])).toEqual([
    ['n1@127.0.0.1', `http://127.0.0.1:${base}`],
    ['n2@127.0.0.1', `http://127.0.0.1:${base + 1}`],
  ]);
  leftovers.push(...members.map((m) => m.osPid));
  p.child.kill('SIGINT');
  expect((await within(p.exited, 20_000, 'cluster exit')).code).toBe(0);
  const all = events(); // throws if any stdout line is not JSON
  expect(all[0]!.event).toBe('up');
  expect(all.at(-1)).toMatchObject({ event: 'stopped', reason: 'SIGINT', members: [{ exit: { code: 0 } }, { exit: { code: 0 } }] });
  expect(p.stderr.some((l) => l.startsWith('[n1] {') && (JSON.parse(l.slice(5)) as { msg: string }).msg.startsWith('ready n1@127.0.0.1'))).toBe(true);
});

it('troupe cluster --tick-ms 300: every node runs its mesh with that tick (each logs it when its transport listens)', async () => {
  const { p } = await startCluster(2, { args: ['--json', '--store', 'none', '--tick-ms', '300'], env: { TROUPE_LOG_FORMAT: '' }, upLine: (l) => l.startsWith('{"event":"up"') });
  const up = JSON.parse(p.stdout.find((l) => l.startsWith('{"event":"up"'))!) as { members: { osPid: number }[] };
  leftovers.push(...up.members.map((m) => m.osPid));
  for (const n of ['n1', 'n2']) {
    const line = p.stderr.find((l) => l.startsWith(`[${n}] {`) && l.includes('transport-ws: listening'));
    expect(line, `${n}'s listening line`).toMatch(/"tickMs":300\b/);
    expect(line).toMatch(/"tickTimeoutMs":1200\b/);
  }
  p.child.kill('SIGINT');
  expect((await within(p.exited, 20_000, 'cluster exit')).code).toBe(0);
});
