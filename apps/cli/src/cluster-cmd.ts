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
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { ClusterCliOptions } from './args.js';
import { isFromNode, type NodeStatus, type ToNode } from './ipc.js';
import { DRAIN_LIMIT_MS } from './node-cmd.js';
import { renderStatus, type MemberView } from './status.js';
import { clusterObserver } from './observe-cmd.js';

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
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  exited: Promise<void>;
  output: string[];
  pending: Map<number, (s: NodeStatus | null) => void>;
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

class Display {
  private drawn = 0;
  private readonly recent: string[] = [];
  constructor(private readonly tty: boolean) {}

  /** A node's output line: printed as it comes (pipe) or kept for the next redraw (terminal). */
  log(line: string): void {
    if (!this.tty) {
      process.stdout.write(line + '\n');
      return;
    }
    this.recent.push(line);
    if (this.recent.length > 8) this.recent.shift();
  }

  /** A line that should stay on screen (start-up, shutdown). */
  say(line: string): void {
    this.clear();
    process.stdout.write(line + '\n');
  }

  status(lines: string[]): void {
    if (!this.tty) {
      process.stdout.write(lines.join('\n') + '\n');
      return;
    }
    this.clear();
    const cols = process.stdout.columns ?? 120;
    const block = [...lines, '', 'recent:', ...this.recent.map((l) => '  ' + l), '', 'Ctrl-C stops every node'].map((l) => (l.length > cols ? l.slice(0, cols - 1) : l));
    process.stdout.write(block.join('\n') + '\n');
    this.drawn = block.length;
  }

  clear(): void {
    // Up over the last block and clear to the end of the screen: a status that updates in place.
    if (this.tty && this.drawn > 0) process.stdout.write(`\x1b[${this.drawn}A\x1b[J`);
    this.drawn = 0;
  }
}

export async function runCluster(o: ClusterCliOptions): Promise<number> {
  const display = new Display(process.stdout.isTTY === true);
  const cookie = randomBytes(24).toString('base64url');
  const self = selfCommand();
  const members: Member[] = [];
  let stopping: Promise<number> | null = null;
  let nextId = 1;

  for (let i = 0; i < o.nodes; i++) {
    if (!(await portFree(o.basePort + i))) {
      console.error(`troupe: port ${o.basePort + i} on ${HOST} is in use: pick another --base-port`);
      return 1;
    }
  }

  const launch = (i: number, join: string[]): Member => {
    const short = `n${i + 1}`;
    const args = [...self.args, 'node', '--name', short, '--host', HOST, '--port', String(o.basePort + i), '--dist-port', '0'];
    for (const j of join) args.push('--join', j);
    // The cookie goes through the environment, not argv (argv is visible to every user in `ps`).
    // detached: a terminal's Ctrl-C reaches this process only, which then stops the nodes in order;
    // a node whose parent dies anyway notices its IPC channel closing and stops itself.
    const child = spawn(self.cmd, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true, env: { ...process.env, TROUPE_COOKIE: cookie } });
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
      exited: new Promise((resolve) => {
        child.once('exit', (code, signal) => {
          m.exit = { code, signal };
          for (const r of m.pending.values()) r(null);
          m.pending.clear();
          if (stopping === null) display.log(`[${short}] exited (${signal ?? `code ${code}`})`);
          resolve();
        });
      }),
      output: [],
      pending: new Map(),
    };
    const onLine = (line: string): void => {
      m.output.push(line);
      if (m.output.length > 50) m.output.shift();
      display.log(`[${short}] ${line}`);
    };
    for (const stream of [child.stdout!, child.stderr!]) {
      let buf = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          onLine(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
        }
      });
    }
    child.on('message', (msg: unknown) => {
      if (!isFromNode(msg)) return;
      if (msg.t === 'ready') {
        m.ready = true;
        m.status = msg.status;
      } else if (msg.t === 'status') {
        m.pending.get(msg.id)?.(msg.status);
        m.pending.delete(msg.id);
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
      return 0;
    })();
    return stopping;
  };

  // Last resort: whatever happens to this process, its children do not outlive it.
  process.once('exit', () => {
    for (const m of members) if (m.exit === null) m.child.kill('SIGKILL');
  });
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

  display.say(`starting ${o.nodes} node(s) on ${HOST}, HTTP ports ${o.basePort}-${o.basePort + o.nodes - 1} (cookie generated for this run)`);
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
  await clusterObserver(members[0]!.status!.mesh, cookie, (l) => display.say(l)); // observer (observe-cmd.ts)

  const poll = async (): Promise<void> => {
    await Promise.all(
      members.map(async (m) => {
        if (m.exit !== null || !m.child.connected) return;
        const id = nextId++;
        const reply = new Promise<NodeStatus | null>((resolve) => {
          m.pending.set(id, resolve);
          setTimeout(() => {
            m.pending.delete(id);
            resolve(null);
          }, STATUS_REPLY_MS).unref();
        });
        try {
          m.child.send({ t: 'status', id } satisfies ToNode);
        } catch {
          return;
        }
        const s = await reply;
        m.unresponsive = s === null && m.exit === null;
        if (s === null || m.exit !== null) return;
        const at = performance.now();
        if (m.sample !== null && at > m.sample.at) m.rate = ((s.processed - m.sample.processed) * 1000) / (at - m.sample.at);
        m.sample = { processed: s.processed, at };
        m.status = s;
      }),
    );
  };
  const view = (): MemberView[] =>
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
    display.status(renderStatus(view(), new Date()));
    timer = setTimeout(() => void tick(), STATUS_INTERVAL_MS);
  };
  void tick();
  const sig = await interrupted;
  if (timer !== null) clearTimeout(timer);
  return stopAll(sig);
}
