// The `npm start` demo: one node, a supervision tree whose worker crashes and
// is restarted, a GenServer serving calls, and every event printed as it happens.
import {
  GenServer,
  Node,
  Supervisor,
  formatReason,
  isStarted,
  type Logger,
  type Pid,
  type ProcessContext,
  type ServerRef,
} from '@troupe/actor-core';

const t0 = performance.now();
const say = (what: string): void => console.log(`${(performance.now() - t0).toFixed(1).padStart(7)} ms  ${what}`);

// Crash reports go through a replaceable logger; here, one line each.
const logger: Logger = {
  debug() {},
  info() {},
  warn: (msg, data) => say(`warn: ${msg} ${JSON.stringify(data)}`),
  error: (msg, data) => say(`crash report: ${msg} ${String(data?.['behaviour'])} ${formatReason(data?.['reason'])}`),
};

const node = new Node({ name: 'demo@localhost', logger });
node.events.on('spawn', ({ pid, behaviour }) => say(`spawn  ${pid} ${behaviour ?? ''}`));
node.events.on('exit', ({ pid, reason }) => say(`exit   ${pid} ${formatReason(reason)}`));

// A counter GenServer: its requests and reply are checked by the compiler.
type CounterCall = { op: 'get' } | { op: 'add'; n: number };
const counter: GenServer<number, CounterCall, never, number> = {
  name: 'counter',
  init: () => ({ ok: 0 }),
  handleCall(req, _from, n) {
    const next = req.op === 'add' ? n + req.n : n;
    return { reply: next, state: next };
  },
};

// A worker that crashes when told to.
const worker = {
  name: 'worker',
  handle(msg: string) {
    if (msg === 'crash') throw new Error('worker told to crash');
  },
};

const started = await Supervisor.start(
  node,
  { strategy: 'one_for_one', intensity: 5, period: 5 },
  [
    { id: 'counter', start: (sup) => GenServer.startLink(sup, counter, undefined, { name: 'counter' }) },
    { id: 'worker', start: (sup: ProcessContext) => ({ ok: sup.spawnLink(worker, { name: 'worker', label: 'worker' }) }) },
  ],
  { name: 'demo_sup' },
);
if (!isStarted(started)) throw new Error(`supervisor failed to start: ${formatReason(started)}`);
const sup = started.ok;
say(`supervisor ${sup} started its children in order`);

const counterRef = node.whereis('counter') as ServerRef<CounterCall, never, number>;
for (const n of [1, 2, 3]) say(`call counter add ${n} -> ${await GenServer.call(node, counterRef, { op: 'add', n })}`);

/** Resolves with the next pid registered as `name` (the restarted worker). */
function nextSpawnNamed(name: string): Promise<Pid> {
  return new Promise((resolve) => {
    const onSpawn = (): void => {
      queueMicrotask(() => {
        const pid = node.whereis(name);
        if (pid !== undefined) {
          node.events.off('spawn', onSpawn);
          resolve(pid);
        }
      });
    };
    node.events.on('spawn', onSpawn);
  });
}

for (let i = 1; i <= 3; i++) {
  const old = node.whereis('worker')!;
  const restarted = nextSpawnNamed('worker');
  say(`telling worker ${old} to crash (${i}/3)`);
  node.send('worker', 'crash');
  say(`supervisor restarted worker as ${await restarted}`);
}

say(`counter survived the crashes: get -> ${await GenServer.call(node, counterRef, { op: 'get' })}`);
for (const c of await Supervisor.whichChildren(node, sup)) say(`child ${c.id}: ${String(c.pid)}`);

await Supervisor.stop(node, sup);
say('supervisor stopped (children in reverse order); bye');
node.shutdown();
