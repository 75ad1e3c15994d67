/**
 * `troupe cluster`: N `troupe node` processes on 127.0.0.1 sharing a
 * generated cookie, node i serving HTTP on base-port + i, and a live status.
 *
 * The nodes are real `troupe node` processes rather than harness nodes: the
 * harness's are test nodes (IPC-driven, SIGKILLed on stop), while this
 * should run exactly what production runs and stop it the way production
 * does (SIGTERM → drain). The status comes over IPC, so it works with or
 * without the gateway; each node also drains if this process dies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exited, killOnExit, onLines, PendingRequests, RequestTimeoutError, type ChildExit } from '@troupe/child-process';
import type { ClusterCliOptions } from './args.js';
import { isFromNode, type NodeStatus, type ToNode } from './ipc.js';
import { DRAIN_LIMIT_MS } from './node-cmd.js';
import { renderStatus, type StatusRow } from './status.js';
import { clusterObserver } from './observe-cmd.js';
import { describeStore, openStore, type StoreSpec } from './store.js';

const START_TIMEOUT_MS = 30_000;
const STATUS_INTERVAL_MS = 1000;
const STATUS_REPLY_MS = 800;
const HOST = '127.0.0.1';

interface Member {
  short: string;
  name: string;
  child: ChildProcess;
  ready: boolean;
  status: NodeStatus | null;
  sample: { processed: number; at: number } | null;
  rate: number | null;
  unresponsive: boolean;
  exit: ChildExit | null;
  exited: Promise<void>;
  output: string[];
  statusRequests: PendingRequests<NodeStatus>;
}

/** How to start this same CLI again: same node binary and flags (tsx under tests), same entry. */
function selfCommand(): { cmd: string; args: string[] } {
  const entry = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './main.ts' : './main.js', import.meta.url));
  return { cmd: process.execPath, args: [...process.execArgv, entry] };
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: HOST, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** `tty`: a status block redrawn in place; `lines`: everything printed as it comes; `json`: stdout only for `event()`. */
export type DisplayMode = 'tty' | 'lines' | 'json';

export class Display {
  private drawn = 0;
  private readonly recent: string[] = [];
  constructor(
    readonly mode: DisplayMode,
    private readonly out: (text: string) => void = (t) => void process.stdout.write(t),
    private readonly err: (text: string) => void = (t) => void process.stderr.write(t),
  ) {}

  private get tty(): boolean {
    return this.mode === 'tty';
  }

  /** A node's output line: printed as it comes (pipe; stderr under --json) or kept for the next redraw (terminal). */
  log(line: string): void {
    if (this.mode !== 'tty') {
      (this.mode === 'json' ? this.err : this.out)(line + '\n');
      return;
    }
    this.recent.push(line);
    if (this.recent.length > 8) this.recent.shift();
  }

  /** A line that should stay on screen (start-up, shutdown); stderr under --json. */
  say(line: string): void {
    if (this.mode === 'json') return this.err(line + '\n');
    this.clear();
    this.out(line + '\n');
  }

  /** One JSON object on its own line (--json only). */
  event(e: object): void {
    if (this.mode === 'json') this.out(JSON.stringify(e) + '\n');
  }

  status(lines: string[]): void {
    if (this.mode === 'json') return;
    if (!this.tty) {
      this.out(lines.join('\n') + '\n');
      return;
    }
    this.clear();
    const cols = process.stdout.columns ?? 120;
    const block = [...lines, '', 'recent:', ...this.recent.map((l) => '  ' + l), '', 'Ctrl-C stops every node'].map((l) => (l.length > cols ? l.slice(0, cols - 1) : l));
    this.out(block.join('\n') + '\n');
    this.drawn = block.length;
  }

  clear(): void {
    // Back to column 0 (the terminal may have echoed ^C where the cursor was), up over the last
    // block, and clear to the end of the screen: without the \r, the block's first line kept as
    // many characters as the echo took ("stSIGINT: stopping").
    if (this.tty && this.drawn > 0) this.out(`\r\x1b[${this.drawn}A\x1b[J`);
    this.drawn = 0;
  }
}

/** A member as --json prints it: the node's last report flattened in, msgs/s over the last interval. */
function memberJson(m: StatusRow): object {
  return { ...m.status, name: m.name, osPid: m.osPid, state: m.state, msgsPerSec: m.rate === null ? null : Math.round(m.rate) };
}

export async function runCluster(o: ClusterCliOptions): Promise<number> {
  const display = new Display(o.json ? 'json' : process.stdout.isTTY === true ? 'tty' : 'lines');
  const cookie = randomBytes(24).toString('base64url');
  const self = selfCommand();
  const members: Member[] = [];
  const nodeStoreArgs: string[] = [];
  let stopping: Promise<number> | null = null;

  for (let i = 0; i < o.nodes; i++) {
    if (!(await portFree(o.basePort + i))) {
      console.error(`troupe: port ${o.basePort + i} on ${HOST} is in use: pick another --base-port`);
      return 1;
    }
  }

  const launch = (i: number, join: string[]): Member => {
    const short = `n${i + 1}`;
    const args = [...self.args, 'node', '--name', short, '--host', HOST, '--port', String(o.basePort + i), '--dist-port', '0', ...nodeStoreArgs];
    if (o.tickMs !== undefined) args.push('--tick-ms', String(o.tickMs));
    for (const j of join) args.push('--join', j);
    // The cookie goes through the environment, not argv (argv is visible to every user in `ps`).
    // detached: a terminal's Ctrl-C reaches this process only, which then stops the nodes in order;
    // a node whose parent dies anyway notices its IPC channel closing and stops itself.
    // Log lines: pretty when this command draws for a terminal (the nodes' stdout is a pipe, so they would pick JSON).
    const format = display.mode === 'tty' ? { TROUPE_LOG_FORMAT: 'pretty' } : {};
    const child = spawn(self.cmd, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true, env: { ...process.env, ...format, TROUPE_COOKIE: cookie } });
    // Last resort: whatever happens to this process, its children do not outlive it.
    killOnExit(child);
    const m: Member = {
      short,
      name: `${short}@${HOST}`,
      child,
      ready: false,
      status: null,
      sample: null,
      rate: null,
      unresponsive: false,
      exit: null,
      exited: exited(child).then((exit) => {
        m.exit = exit;
        m.statusRequests.rejectAll(() => new Error(`${m.name} exited`));
        if (stopping === null) display.log(`[${short}] exited (${exit.signal ?? `code ${exit.code}`})`);
      }),
      output: [],
      statusRequests: new PendingRequests<NodeStatus>(),
    };
    const onLine = (line: string): void => {
      m.output.push(line);
      if (m.output.length > 50) m.output.shift();
      display.log(`[${short}] ${line}`);
    };
    onLines(child.stdout!, onLine);
    onLines(child.stderr!, onLine);
    child.on('message', (msg: unknown) => {
      if (!isFromNode(msg)) return;
      if (msg.t === 'ready') {
        m.ready = true;
        m.status = msg.status;
      } else if (msg.t === 'status') {
        m.statusRequests.resolve(msg.id, msg.status);
      }
    });
    members.push(m);
    return m;
  };

  const waitReady = async (m: Member): Promise<void> => {
    const t0 = Date.now();
    while (!m.ready) {
      if (m.exit !== null) throw new Error(`${m.name} exited during start-up (${m.exit.signal ?? `code ${m.exit.code}`}):\n  ${m.output.slice(-8).join('\n  ')}`);
      if (Date.now() - t0 > START_TIMEOUT_MS) throw new Error(`${m.name} not ready after ${START_TIMEOUT_MS / 1000} s:\n  ${m.output.slice(-8).join('\n  ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  const stopAll = (why: string): Promise<number> => {
    if (stopping !== null) return stopping;
    stopping = (async () => {
      display.say(`${why}: stopping ${members.filter((m) => m.exit === null).length} node(s)...`);
      // The whole cluster stops, so nobody could adopt handed-over agents: stop without draining.
      // SIGTERM (a drain) only where the IPC channel is gone.
      for (const m of members) {
        if (m.exit !== null) continue;
        if (m.child.connected) m.child.send({ t: 'stop', drain: false } satisfies ToNode);
        else m.child.kill('SIGTERM');
      }
      const limit = new Promise<'late'>((r) => setTimeout(() => r('late'), DRAIN_LIMIT_MS + 2000).unref());
      if ((await Promise.race([Promise.all(members.map((m) => m.exited)), limit])) === 'late') {
        for (const m of members) if (m.exit === null) m.child.kill('SIGKILL');
        await Promise.all(members.map((m) => m.exited));
      }
      for (const m of members) display.say(`  ${m.name} (os pid ${m.child.pid}) stopped: ${m.exit?.signal ?? `exit ${m.exit?.code}`}`);
      display.event({ event: 'stopped', reason: why, members: members.map((m) => ({ name: m.name, osPid: m.child.pid ?? null, exit: m.exit })) });
      removeRunDir();
      return 0;
    })();
    return stopping;
  };

  let signals = 0;
  const interrupted = new Promise<string>((resolve) => {
    const onSignal = (sig: NodeJS.Signals): void => {
      // A second Ctrl-C does not wait for the drain.
      if (++signals > 1) for (const m of members) if (m.exit === null) m.child.kill('SIGKILL');
      resolve(sig);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onSignal); // the terminal closed
  });

  // One store for every node. The default is a SQLite file in a directory made for this run
  // (removed when the cluster stops). Opened here first: the schema exists before any node opens
  // it (node processes never race to create it), and a bad store is one error before any node starts.
  let runDir: string | null = null;
  let store: StoreSpec | null = null;
  if (o.store === 'run-dir') {
    runDir = mkdtempSync(join(tmpdir(), 'troupe-cluster-'));
    store = { kind: 'sqlite', path: join(runDir, 'agents.db') };
  } else {
    store = o.store;
  }
  const removeRunDir = (): void => {
    if (runDir !== null) rmSync(runDir, { recursive: true, force: true });
  };
  if (store !== null) {
    try {
      await (await openStore(store)).close();
    } catch (e) {
      removeRunDir();
      console.error(`troupe: ${e instanceof Error ? e.message : String(e)}`);
      return 1;
    }
  }
  if (store !== null) nodeStoreArgs.push('--store', store.kind === 'sqlite' ? `sqlite:${store.path}` : store.url);

  display.say(`starting ${o.nodes} node(s) on ${HOST}, HTTP ports ${o.basePort}-${o.basePort + o.nodes - 1} (cookie generated for this run)`);
  display.say(store === null ? 'agents in memory (--store none)' : `durable agents: store ${describeStore(store)}${runDir !== null ? ' (removed when the cluster stops)' : ''}`);
  try {
    const first = launch(0, []);
    await Promise.race([waitReady(first), interrupted.then(() => Promise.reject(new Error('interrupted')))]);
    const rest = Array.from({ length: o.nodes - 1 }, (_, k) => launch(k + 1, [first.status!.mesh]));
    await Promise.race([Promise.all(rest.map(waitReady)), interrupted.then(() => Promise.reject(new Error('interrupted')))]);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (msg !== 'interrupted') console.error(`troupe: ${msg}`);
    await stopAll(msg === 'interrupted' ? 'interrupted' : 'start-up failed');
    return msg === 'interrupted' ? 0 : 1;
  }
  display.say(`cluster up: ${members.map((m) => `${m.name} ${m.status?.http ?? m.status?.mesh}`).join(', ')}`);
  display.event({ event: 'up', members: members.map((m) => ({ name: m.name, osPid: m.child.pid ?? null, http: m.status?.http ?? null, mesh: m.status?.mesh ?? null })) });
  await clusterObserver(members[0]!.status!.mesh, cookie, (l) => display.say(l)); // observer (observe-cmd.ts)

  const poll = async (): Promise<void> => {
    await Promise.all(
      members.map(async (m) => {
        if (m.exit !== null || !m.child.connected) return;
        let s: NodeStatus | null;
        try {
          s = await m.statusRequests.request({ send: (id) => m.child.send({ t: 'status', id } satisfies ToNode), timeoutMs: STATUS_REPLY_MS, unref: true });
        } catch (e) {
          // No reply in time: unresponsive. The channel closing or the node exiting: nothing to show.
          if (!(e instanceof RequestTimeoutError)) return;
          s = null;
        }
        m.unresponsive = s === null && m.exit === null;
        if (s === null || m.exit !== null) return;
        const at = performance.now();
        if (m.sample !== null && at > m.sample.at) m.rate = ((s.processed - m.sample.processed) * 1000) / (at - m.sample.at);
        m.sample = { processed: s.processed, at };
        m.status = s;
      }),
    );
  };
  const view = (): StatusRow[] =>
    members.map((m) => ({
      name: m.name,
      osPid: m.child.pid ?? null,
      state: m.exit !== null ? `exited (${m.exit.signal ?? m.exit.code})` : m.unresponsive ? 'unresponsive' : (m.status?.state ?? 'starting'),
      // An exited node's last report is stale: show only its name, pid and exit.
      status: m.exit === null ? m.status : null,
      rate: m.exit === null ? m.rate : null,
    }));

  let timer: NodeJS.Timeout | null = null;
  const tick = async (): Promise<void> => {
    await poll();
    if (stopping !== null) return;
    const at = new Date();
    display.status(renderStatus(view(), at));
    display.event({ event: 'status', at: at.toISOString(), members: view().map(memberJson) });
    timer = setTimeout(() => void tick(), STATUS_INTERVAL_MS);
  };
  void tick();
  const sig = await interrupted;
  if (timer !== null) clearTimeout(timer);
  return stopAll(sig);
}
