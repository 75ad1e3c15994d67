/**
 * The command line: `troupe <command> [options]`. `node:util` parseArgs
 * splits argv into tokens (`--flag value`, `--flag=value`, `--` ends the
 * options); the tokens are checked here, so every misuse gets an exact
 * one-line error (`troupe: --port must be an integer 0-65535, got 'x'`) and
 * exit code 2.
 */
import { parseArgs as parseArgv } from 'node:util';
// Light imports only: every command parses its arguments first (`troupe node` then loads its bundle).
import { isValidNodeName } from '@troupe/actor-core/node-name';
import { LOG_LEVELS, type CliLogLevel } from './log-levels.js';
import { parseStoreUrl, type StoreSpec } from './store.js';


/** A misuse of the command line: printed as one line plus the usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    /** The usage text to show after the message. */
    readonly usage: string,
  ) {
    super(message);
  }
}

export const DEFAULT_HTTP_PORT = 4000;
/** `troupe node` puts its mesh (WebSocket) listener this far above its HTTP port unless `--dist-port` says otherwise. */
export const DIST_PORT_OFFSET = 1000;

export interface NodeCliOptions {
  /** Full node name, `name@host`. */
  name: string;
  host: string;
  /** HTTP (gateway) port; 0 = ephemeral. */
  port: number;
  /** Mesh (WebSocket) port; 0 = ephemeral. */
  distPort: number;
  /** Ports not given on the command line: if taken, the node takes the next free one (a given port is strict). */
  defaultPorts: { http: boolean; dist: boolean };
  join: string[];
  /** DNS names whose A records are members (a headless service), each with the mesh port to dial. */
  joinDns: { name: string; port: number }[];
  cookieFile: string | null;
  partition: string | null;
  hidden: boolean;
  /** Find the other nodes of this host through the per-user directory (`LocalNodes`); off with --no-local-discovery. */
  localDiscovery: boolean;
  /** `--gossip ADDR:PORT`: LAN discovery by UDP multicast (`UdpGossip`); null: off. */
  gossip: { address: string; port: number; interface?: string } | null;
  /** `--http-host`: the gateway's interface; absent: 127.0.0.1, whatever `host` is. */
  httpHost?: string;
  /** `--http-token-file`: the gateway's bearer-token file. */
  httpTokenFile?: string;
  /** `--store`: durable agents' store; null: agents in memory. */
  store: StoreSpec | null;
  logLevel: CliLogLevel;
  /** `--tick-ms`: the mesh's tick interval (a peer silent 4 × this long is down); absent: the transport's 1000. */
  tickMs?: number;
}

export interface ClusterCliOptions {
  nodes: number;
  basePort: number;
  /** One JSON object per line on stdout (start-up, each status, shutdown) instead of the live table. */
  json: boolean;
  /** `--store`: given to every node; 'run-dir': a SQLite file in a directory made for this run (the default); null: `none`. */
  store: StoreSpec | null | 'run-dir';
  /** `--tick-ms`: given to every node; absent: the nodes' default. */
  tickMs?: number;
}

export interface BenchCliOptions {
  quick: boolean;
  prof: boolean;
  list: boolean;
  /** results.json path (report.md and throughput.svg go next to it); null: bench-report/ at the repository root. */
  out: string | null;
  /** Seconds to wait for a quiet machine before each case; null: the runner's default (60, 0 with --quick). */
  waitS: number | null;
  /** Suites (`local`) or cases (`local.oneway`); empty: every suite. */
  targets: string[];
  /** stdout is one JSON document (the results, the run, the files written) instead of the table. */
  json: boolean;
}

export type Command =
  | { cmd: 'node'; opts: NodeCliOptions }
  | { cmd: 'cluster'; opts: ClusterCliOptions }
  | { cmd: 'bench'; opts: BenchCliOptions }
  | { cmd: 'help'; text: string }
  | { cmd: 'version' };

export const USAGE_NODE = `usage: troupe node --name NAME [--host 127.0.0.1] [--port 4000] [--dist-port P] [--join URL]...
                   [--join-dns NAME[:PORT]]... [--cookie-file FILE] [--partition KEY] [--hidden]
                   [--http-host 127.0.0.1] [--http-token-file FILE] [--no-local-discovery]
                   [--gossip ADDR:PORT [--gossip-interface ADDR]] [--store URL] [--log-level info]
                   [--tick-ms 1000]
  --name NAME         node name; '@HOST' is appended if absent (NAME@HOST)
  --host HOST         interface of the mesh, and the node name's host (default 127.0.0.1)
  --port P            HTTP port of the gateway (default ${DEFAULT_HTTP_PORT}, or the next free one; 0 = any free port)
  --dist-port P       mesh (WebSocket) port (default --port + ${DIST_PORT_OFFSET}, or the next free one; 0 = any free
                      port); a port given explicitly is strict: taken, the node exits 1
  --join URL          a member's mesh URL (ws://host:port) to join through; repeatable; retried until reached
  --join-dns NAME[:P] poll NAME's A records (e.g. a Kubernetes headless service) and join every address
                      on mesh port P (default: this node's mesh port); repeatable
  --cookie-file FILE  the cluster cookie's file (default: TROUPE_COOKIE, else ~/.troupe.cookie)
  --partition KEY     run the cluster services in this partition only
  --hidden            a hidden node: connects where asked, not part of the mesh
  --no-local-discovery  do not find this host's other nodes (default: every node registers in
                      TROUPE_NODES_DIR, else ~/.troupe/nodes, and joins the others with the same cookie)
  --gossip ADDR:PORT  find nodes on the LAN by UDP multicast on group ADDR, port PORT (off by default;
                      e.g. 233.252.1.32:45892); --gossip-interface ADDR picks the interface
  --http-host HOST    interface of the HTTP gateway (default 127.0.0.1, whatever --host is); beyond
                      loopback, state-changing methods need a bearer token (SECURITY.md)
  --http-token-file F the gateway's token file (default: TROUPE_GATEWAY_TOKEN, else
                      TROUPE_GATEWAY_TOKEN_FILE, else ~/.troupe.gateway-token, created if absent)
  --store URL         durable agents: their queues survive a crash of their node. sqlite:PATH (one file
                      every node on this host opens) or postgres://USER@HOST:PORT/DB (password from
                      PGPASSWORD rather than the URL: argv is public); none (default): agents in memory
  --tick-ms MS        the mesh's tick interval (default 1000): a peer silent 4 x MS is down. An idle node
                      sends every peer a tick per interval, most of its idle CPU: higher means less of it
                      and slower detection of a hung peer. Give every node of a cluster the same value
  --log-level L       ${LOG_LEVELS.join(' | ')} (default info; crash stacks at debug). Lines are
                      pretty on a terminal, JSON otherwise (TROUPE_LOG_FORMAT=pretty|json to choose)
  SIGTERM / SIGINT drain the node (its agents move to other members) and exit 0.`;

export const USAGE_CLUSTER = `usage: troupe cluster [--nodes 3] [--base-port ${DEFAULT_HTTP_PORT}] [--store URL] [--tick-ms MS] [--json]
  --nodes N           node processes to start on 127.0.0.1 (1-64, default 3)
  --base-port P       node i serves HTTP on P + i (default ${DEFAULT_HTTP_PORT})
  --store URL         the durable agents' store, given to every node (see troupe node --help); default:
                      a SQLite file in a directory made for this run, removed when the cluster stops;
                      none: agents in memory
  --tick-ms MS        the mesh's tick interval, given to every node (see troupe node --help)
  --json              for scripts: one JSON object per line on stdout ({"event":"up"|"status"|"stopped",...});
                      the nodes' log lines go to stderr
  Shows a live status every second; Ctrl-C stops every node.`;

export const USAGE_BENCH = `usage: troupe bench [--quick] [--prof] [--out FILE] [--wait S] [--list] [--json] [suite|suite.case ...]
  suite, suite.case   what to run (default: every suite); a suite's baseline always runs
  --quick             sizes scaled down ~10x, 3 runs: every suite in under a minute
  --prof              a CPU profile per case in bench-report/prof/
  --out FILE          results.json path (default bench-report/results.json); report.md and
                      throughput.svg are written next to it
  --wait S            before each case wait up to S s for a quiet machine (default 60, 0 with --quick)
  --list              list the cases and exit
  --json              for scripts: stdout is one JSON document {"run", "results", "files"} (progress stays on stderr)`;

export const USAGE = `usage: troupe <command> [options]
commands:
  node      run one node and join a cluster          (troupe node --help)
  cluster   run a local cluster with a live status    (troupe cluster --help)
  bench     run the benchmarks and write a report     (troupe bench --help)
  help      this text;  --version  the version`;

type FlagKind = 'value' | 'list' | 'bool';

interface Parsed {
  values: Map<string, string[]>;
  bools: Set<string>;
  positionals: string[];
  help: boolean;
}

/** Splits argv by the flag table; unknown flags and missing values are usage errors. */
function tokenize(argv: readonly string[], flags: Record<string, FlagKind>, usage: string, allowPositionals: boolean): Parsed {
  const options = Object.fromEntries(Object.entries(flags).map(([f, kind]) => [f, { type: kind === 'bool' ? ('boolean' as const) : ('string' as const) }]));
  // Not strict: parseArgs only tokenizes, and each misuse below gets our own message.
  const { tokens } = parseArgv({ args: [...argv], options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: false, allowPositionals: true, tokens: true });
  const out: Parsed = { values: new Map(), bools: new Set(), positionals: [], help: false };
  for (const t of tokens) {
    if (t.kind === 'option-terminator') continue;
    if (t.kind === 'positional') {
      if (!allowPositionals) throw new UsageError(`unexpected argument '${t.value}'`, usage);
      out.positionals.push(t.value);
      continue;
    }
    if (t.name === 'help') {
      out.help = true;
      continue;
    }
    const kind = flags[t.name];
    // The whole word as typed: `-port` is an unknown option, not the short flags -p -o -r -t.
    const raw = argv[t.index]!;
    if (kind === undefined || !t.rawName.startsWith('--')) throw new UsageError(`unknown option '${t.inlineValue === true ? raw.slice(0, raw.indexOf('=')) : raw}'`, usage);
    if (kind === 'bool') {
      if (t.value !== undefined) throw new UsageError(`--${t.name} takes no value`, usage);
      out.bools.add(t.name);
      continue;
    }
    // `--port --host x` is a missing value, not a port named '--host'.
    const v = t.value;
    if (v === undefined || (t.inlineValue === false && v.startsWith('--') && v.length > 2)) throw new UsageError(`--${t.name} needs a value`, usage);
    const prev = out.values.get(t.name);
    if (prev !== undefined && kind === 'value') throw new UsageError(`--${t.name} given twice`, usage);
    out.values.set(t.name, [...(prev ?? []), v]);
  }
  return out;
}

function one(p: Parsed, flag: string): string | undefined {
  return p.values.get(flag)?.[0];
}

function int(p: Parsed, flag: string, dflt: number, min: number, max: number, usage: string): number {
  const raw = one(p, flag);
  if (raw === undefined) return dflt;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${flag} must be an integer ${min}-${max}, got '${raw}'`, usage);
  return n;
}

/** `--tick-ms`, in the transport's own bounds: at least 10 ms; at most 10 minutes (a silent peer is then down after 40). */
function tickMsOf(p: Parsed, usage: string): number | undefined {
  return one(p, 'tick-ms') === undefined ? undefined : int(p, 'tick-ms', 0, 10, 600_000, usage);
}

function nonEmpty(p: Parsed, flag: string, usage: string): string | undefined {
  const raw = one(p, flag);
  if (raw !== undefined && raw.trim() === '') throw new UsageError(`--${flag} must not be empty`, usage);
  return raw;
}

function storeSpec(raw: string, usage: string): StoreSpec | null {
  const r = parseStoreUrl(raw);
  if (r !== null && 'error' in r) throw new UsageError(r.error, usage);
  return r;
}

function parseNode(argv: readonly string[]): Command {
  const u = USAGE_NODE;
  const p = tokenize(
    argv,
    { name: 'value', host: 'value', port: 'value', 'dist-port': 'value', join: 'list', 'join-dns': 'list', 'cookie-file': 'value', partition: 'value', hidden: 'bool', 'http-host': 'value', 'http-token-file': 'value', 'no-local-discovery': 'bool', gossip: 'value', 'gossip-interface': 'value', store: 'value', 'log-level': 'value', 'tick-ms': 'value' },
    u,
    false,
  );
  if (p.help) return { cmd: 'help', text: u };
  const host = nonEmpty(p, 'host', u) ?? '127.0.0.1';
  const tickMs = tickMsOf(p, u);
  const port = int(p, 'port', DEFAULT_HTTP_PORT, 0, 65535, u);
  const distDefault = port === 0 ? 0 : port + DIST_PORT_OFFSET;
  if (one(p, 'dist-port') === undefined && distDefault > 65535) {
    throw new UsageError(`--port ${port} leaves no room for the default mesh port ${distDefault}: give --dist-port`, u);
  }
  const distPort = int(p, 'dist-port', distDefault, 0, 65535, u);
  if (port !== 0 && distPort === port) throw new UsageError(`--dist-port must differ from --port (${port})`, u);
  const join = p.values.get('join') ?? [];
  for (const url of join) {
    let ok = false;
    try {
      const parsed = new URL(url);
      ok = (parsed.protocol === 'ws:' || parsed.protocol === 'wss:') && parsed.hostname !== '';
    } catch {
      ok = false;
    }
    if (!ok) throw new UsageError(`--join must be a mesh URL like ws://127.0.0.1:5000, got '${url}'`, u);
  }
  const joinDns = (p.values.get('join-dns') ?? []).map((raw) => {
    const m = /^([A-Za-z0-9.-]+)(?::(\d+))?$/.exec(raw);
    const explicit = m?.[2] === undefined ? undefined : Number(m[2]);
    if (m === null || (explicit !== undefined && (explicit < 1 || explicit > 65535))) {
      throw new UsageError(`--join-dns must be a DNS name with an optional :PORT, like troupe.default.svc.cluster.local:5000, got '${raw}'`, u);
    }
    if (explicit === undefined && distPort === 0) throw new UsageError('--join-dns needs a :PORT when --dist-port is 0', u);
    return { name: m[1]!, port: explicit ?? distPort };
  });
  const partition = nonEmpty(p, 'partition', u) ?? null;
  const gossipRaw = one(p, 'gossip');
  let gossip: NodeCliOptions['gossip'] = null;
  if (gossipRaw !== undefined) {
    const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(gossipRaw);
    const gport = m === null ? NaN : Number(m[2]);
    if (m === null || gport < 1 || gport > 65535) throw new UsageError(`--gossip must be a multicast group and port like 233.252.1.32:45892, got '${gossipRaw}'`, u);
    const iface = nonEmpty(p, 'gossip-interface', u);
    gossip = { address: m[1]!, port: gport, ...(iface === undefined ? {} : { interface: iface }) };
  } else if (one(p, 'gossip-interface') !== undefined) {
    throw new UsageError('--gossip-interface needs --gossip', u);
  }
  const storeRaw = one(p, 'store');
  const store = storeRaw === undefined ? null : storeSpec(storeRaw, u);
  const httpHost = nonEmpty(p, 'http-host', u);
  const httpTokenFile = nonEmpty(p, 'http-token-file', u);
  const logLevel = one(p, 'log-level') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got '${logLevel}'`, u);
  // The required flag last, so a bad value elsewhere is what gets reported.
  const rawName = one(p, 'name');
  if (rawName === undefined) throw new UsageError('--name is required', u);
  // One rule for node names, the one the node and the mesh apply (HOST may be an IPv6 address).
  // An IPv6 host is bracketed in the name (`a@[::1]`), as the rule requires.
  const nameHost = host.includes(':') ? `[${host}]` : host;
  const name = rawName.includes('@') ? rawName : `${rawName}@${nameHost}`;
  if (!isValidNodeName(name)) {
    throw new UsageError(`--name must be NAME or NAME@HOST of letters, digits, '_', '.', '-', got '${rawName}'`, u);
  }
  return {
    cmd: 'node',
    opts: {
      name,
      host,
      port,
      distPort,
      defaultPorts: { http: one(p, 'port') === undefined, dist: one(p, 'dist-port') === undefined && distPort !== 0 },
      join,
      joinDns,
      cookieFile: nonEmpty(p, 'cookie-file', u) ?? null,
      partition,
      hidden: p.bools.has('hidden'),
      localDiscovery: !p.bools.has('no-local-discovery'),
      gossip,
      ...(httpHost === undefined ? {} : { httpHost }),
      ...(httpTokenFile === undefined ? {} : { httpTokenFile }),
      store,
      logLevel: logLevel as CliLogLevel,
      ...(tickMs === undefined ? {} : { tickMs }),
    },
  };
}

export const MAX_CLUSTER_NODES = 64;

function parseCluster(argv: readonly string[]): Command {
  const u = USAGE_CLUSTER;
  const p = tokenize(argv, { nodes: 'value', 'base-port': 'value', store: 'value', json: 'bool', 'tick-ms': 'value' }, u, false);
  if (p.help) return { cmd: 'help', text: u };
  const nodes = int(p, 'nodes', 3, 1, MAX_CLUSTER_NODES, u);
  const basePort = int(p, 'base-port', DEFAULT_HTTP_PORT, 1, 65535 - DIST_PORT_OFFSET - nodes + 1, u);
  const storeRaw = one(p, 'store');
  const store = storeRaw === undefined ? 'run-dir' : storeSpec(storeRaw, u);
  const tickMs = tickMsOf(p, u);
  return { cmd: 'cluster', opts: { nodes, basePort, json: p.bools.has('json'), store, ...(tickMs === undefined ? {} : { tickMs }) } };
}

function parseBench(argv: readonly string[]): Command {
  const u = USAGE_BENCH;
  const p = tokenize(argv, { quick: 'bool', prof: 'bool', list: 'bool', json: 'bool', out: 'value', wait: 'value' }, u, true);
  if (p.help) return { cmd: 'help', text: u };
  for (const t of p.positionals) {
    if (!/^[A-Za-z0-9_]+(\.[A-Za-z0-9_.]+)?$/.test(t)) throw new UsageError(`not a suite or suite.case: '${t}'`, u);
  }
  return {
    cmd: 'bench',
    opts: {
      quick: p.bools.has('quick'),
      prof: p.bools.has('prof'),
      list: p.bools.has('list'),
      out: nonEmpty(p, 'out', u) ?? null,
      waitS: one(p, 'wait') === undefined ? null : int(p, 'wait', 0, 0, 3600, u),
      targets: p.positionals,
      json: p.bools.has('json'),
    },
  };
}

/** Parses `troupe`'s arguments (without `node` and the script). Throws `UsageError`. */
export function parseArgs(argv: readonly string[]): Command {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'node':
      return parseNode(rest);
    case 'cluster':
      return parseCluster(rest);
    case 'bench':
      return parseBench(rest);
    case undefined:
      throw new UsageError('no command given', USAGE);
    case 'help':
    case '-h':
    case '--help': {
      const topic = rest[0];
      const text = topic === 'node' ? USAGE_NODE : topic === 'cluster' ? USAGE_CLUSTER : topic === 'bench' ? USAGE_BENCH : USAGE;
      return { cmd: 'help', text };
    }
    case '--version':
    case '-V':
      return { cmd: 'version' };
    default:
      throw new UsageError(cmd.startsWith('-') ? `unknown option '${cmd}'` : `unknown command '${cmd}'`, USAGE);
  }
}
