import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_HTTP_PORT, parseArgs, UsageError, USAGE_NODE, type Command } from '../src/args.js';
import { killAll, startCli, within } from './cli-process.js';

afterEach(() => killAll());

function usageError(argv: string[]): UsageError {
  try {
    parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
}

function ok<C extends Command['cmd']>(argv: string[], cmd: C): Extract<Command, { cmd: C }> {
  const c = parseArgs(argv);
  expect(c.cmd).toBe(cmd);
  return c as Extract<Command, { cmd: C }>;
}

describe('parseArgs', () => {
  it('troupe node: defaults, NAME@HOST, repeated --join, = syntax', () => {
    const a = ok(['node', '--name', 'a'], 'node').opts;
    expect(a).toEqual({ name: 'a@127.0.0.1', host: '127.0.0.1', port: DEFAULT_HTTP_PORT, distPort: DEFAULT_HTTP_PORT + 1000, defaultPorts: { http: true, dist: true }, join: [], joinDns: [], cookieFile: null, partition: null, hidden: false, localDiscovery: true, gossip: null, store: null, logLevel: 'info' });
    const b = ok(
      ['node', '--name=b@box1', '--host', '0.0.0.0', '--port', '0', '--join', 'ws://10.0.0.1:5000', '--join=wss://h:5001', '--cookie-file', '/tmp/c', '--partition', 'eu', '--hidden'],
      'node',
    ).opts;
    expect(b).toEqual({ name: 'b@box1', host: '0.0.0.0', port: 0, distPort: 0, defaultPorts: { http: false, dist: false }, join: ['ws://10.0.0.1:5000', 'wss://h:5001'], joinDns: [], cookieFile: '/tmp/c', partition: 'eu', hidden: true, localDiscovery: true, gossip: null, store: null, logLevel: 'info' });
    expect(ok(['node', '--name', 'a', '--log-level', 'debug'], 'node').opts.logLevel).toBe('debug');
    expect(ok(['node', '--name', 'c', '--port', '8080', '--dist-port', '9000'], 'node').opts.distPort).toBe(9000);
    expect(ok(['node', '--name', 'a', '--tick-ms', '3000'], 'node').opts.tickMs).toBe(3000);
  });

  it('troupe node: local discovery on by default, --no-local-discovery; --gossip ADDR:PORT [--gossip-interface]', () => {
    expect(ok(['node', '--name', 'a', '--no-local-discovery'], 'node').opts.localDiscovery).toBe(false);
    expect(ok(['node', '--name', 'a', '--gossip', '233.252.1.32:45892'], 'node').opts.gossip).toEqual({ address: '233.252.1.32', port: 45892 });
    expect(ok(['node', '--name', 'a', '--gossip', '239.1.2.3:9', '--gossip-interface', '127.0.0.1'], 'node').opts.gossip).toEqual({ address: '239.1.2.3', port: 9, interface: '127.0.0.1' });
    expect(() => parseArgs(['node', '--name', 'a', '--gossip', 'lan'])).toThrow("--gossip must be a multicast group and port like 233.252.1.32:45892, got 'lan'");
    expect(() => parseArgs(['node', '--name', 'a', '--gossip-interface', '127.0.0.1'])).toThrow('--gossip-interface needs --gossip');
  });

  it('troupe node: --join-dns NAME[:PORT] (a headless service), the port defaulting to the mesh port', () => {
    const o = ok(['node', '--name', 'a', '--join-dns', 'troupe.default.svc.cluster.local', '--join-dns', 'other.svc:6000'], 'node').opts as { joinDns: unknown };
    expect(o.joinDns).toEqual([
      { name: 'troupe.default.svc.cluster.local', port: DEFAULT_HTTP_PORT + 1000 },
      { name: 'other.svc', port: 6000 },
    ]);
  });

  it('troupe cluster and troupe bench', () => {
    expect(ok(['cluster'], 'cluster').opts).toEqual({ nodes: 3, basePort: 4000, json: false, store: 'run-dir' });
    expect(ok(['cluster', '--nodes', '5', '--base-port=4500'], 'cluster').opts).toEqual({ nodes: 5, basePort: 4500, json: false, store: 'run-dir' });
    expect(ok(['cluster', '--tick-ms', '2000'], 'cluster').opts.tickMs).toBe(2000);
    expect(() => parseArgs(['cluster', '--tick-ms', '0'])).toThrow("--tick-ms must be an integer 10-600000, got '0'");
    expect(ok(['cluster', '--json'], 'cluster').opts).toMatchObject({ json: true });
    expect(ok(['bench', '--json', 'local'], 'bench').opts).toMatchObject({ json: true, targets: ['local'] });
    expect(ok(['bench', '--quick', 'local', 'remote.call'], 'bench').opts).toEqual({ quick: true, prof: false, list: false, out: null, waitS: null, targets: ['local', 'remote.call'], json: false });
    expect(ok(['bench', '--wait', '0', '--out', 'x/r.json', '--prof'], 'bench').opts).toMatchObject({ waitS: 0, out: 'x/r.json', prof: true, targets: [] });
  });

  it('--store: sqlite:PATH (relative to the current directory), postgres:// URLs, none', () => {
    expect(ok(['node', '--name', 'a', '--store', 'sqlite:/tmp/agents.db'], 'node').opts.store).toEqual({ kind: 'sqlite', path: '/tmp/agents.db' });
    expect(ok(['node', '--name', 'a', '--store', 'sqlite:agents.db'], 'node').opts.store).toEqual({ kind: 'sqlite', path: `${process.cwd()}/agents.db` });
    expect(ok(['node', '--name', 'a', '--store', 'sqlite:///tmp/a.db'], 'node').opts.store).toEqual({ kind: 'sqlite', path: '/tmp/a.db' });
    expect(ok(['node', '--name', 'a', '--store=postgres://u@db:5432/troupe'], 'node').opts.store).toEqual({ kind: 'postgres', url: 'postgres://u@db:5432/troupe' });
    expect(ok(['node', '--name', 'a', '--store', 'none'], 'node').opts.store).toBeNull();
    expect(ok(['cluster', '--store', 'none'], 'cluster').opts.store).toBeNull();
    expect(ok(['cluster', '--store', 'sqlite:/tmp/c.db'], 'cluster').opts.store).toEqual({ kind: 'sqlite', path: '/tmp/c.db' });
  });

  it('troupe node --name follows the node-name rule of the node and the mesh: an IPv6 host is valid', () => {
    expect(ok(['node', '--name', 'a@[::1]'], 'node').opts.name).toBe('a@[::1]');
    expect(ok(['node', '--name', 'a', '--host', '::1'], 'node').opts.name).toBe('a@[::1]');
    expect(ok(['node', '--name', `${'x'.repeat(253)}@h`], 'node').opts.name).toHaveLength(255);
  });

  it('help and version', () => {
    expect(ok(['node', '--help'], 'help').text).toBe(USAGE_NODE);
    expect(ok(['help', 'node'], 'help').text).toBe(USAGE_NODE);
    expect(parseArgs(['--version']).cmd).toBe('version');
  });

  it.each([
    [['frobnicate'], "unknown command 'frobnicate'"],
    [[], 'no command given'],
    [['node'], '--name is required'],
    [['node', '--name', 'a', '--bogus'], "unknown option '--bogus'"],
    [['node', '--name', 'a', '-x'], "unknown option '-x'"],
    [['node', '--name', 'a', '--port', 'http'], "--port must be an integer 0-65535, got 'http'"],
    [['node', '--name', 'a', '--port', '70000'], "--port must be an integer 0-65535, got '70000'"],
    [['node', '--name', 'a', '--port', '-1'], "--port must be an integer 0-65535, got '-1'"],
    [['node', '--name', 'a', '--port'], '--port needs a value'],
    [['node', '--name', 'a', '--port', '--hidden'], '--port needs a value'],
    [['node', '--name', 'a', '--port', '1', '--port', '2'], '--port given twice'],
    [['node', '--name', 'a b'], "--name must be NAME or NAME@HOST of letters, digits, '_', '.', '-', got 'a b'"],
    [['node', '--name', `${'x'.repeat(254)}@h`], `--name must be NAME or NAME@HOST of letters, digits, '_', '.', '-', got '${'x'.repeat(254)}@h'`],
    [['node', '--name', 'a@'], "--name must be NAME or NAME@HOST of letters, digits, '_', '.', '-', got 'a@'"],
    [['node', '--name', 'a', '-port', '1'], "unknown option '-port'"],
    [['node', '--name', 'a', '--bogus=1'], "unknown option '--bogus'"],
    [['node', '--name', 'a', '--', 'extra'], "unexpected argument 'extra'"],
    [['node', '--name', 'a@b@c'], "--name must be NAME or NAME@HOST of letters, digits, '_', '.', '-', got 'a@b@c'"],
    [['node', '--name', 'a', '--join', 'http://x:1'], "--join must be a mesh URL like ws://127.0.0.1:5000, got 'http://x:1'"],
    [['node', '--name', 'a', '--join-dns', 'bad name'], "--join-dns must be a DNS name with an optional :PORT, like troupe.default.svc.cluster.local:5000, got 'bad name'"],
    [['node', '--name', 'a', '--dist-port', '0', '--join-dns', 'svc.local'], '--join-dns needs a :PORT when --dist-port is 0'],
    [['node', '--name', 'a', '--hidden=yes'], '--hidden takes no value'],
    [['node', '--name', 'a', '--log-level', 'loud'], "--log-level must be one of trace, debug, info, warn, error, silent, got 'loud'"],
    [['node', '--name', 'a', '--tick-ms', '5'], "--tick-ms must be an integer 10-600000, got '5'"],
    [['node', '--name', 'a', '--tick-ms', '1s'], "--tick-ms must be an integer 10-600000, got '1s'"],
    [['node', '--name', 'a', 'extra'], "unexpected argument 'extra'"],
    [['node', '--name', 'a', '--partition', ''], '--partition must not be empty'],
    [['node', '--name', 'a', '--port', '65000'], '--port 65000 leaves no room for the default mesh port 66000: give --dist-port'],
    [['node', '--name', 'a', '--port', '5000', '--dist-port', '5000'], '--dist-port must differ from --port (5000)'],
    [['node', '--name', 'a', '--store', 'mysql://h/db'], "--store must be sqlite:PATH, postgres://USER[:PASS]@HOST[:PORT]/DB or none, got 'mysql://h/db'"],
    [['node', '--name', 'a', '--store', 'sqlite:'], "--store sqlite: needs a file path (every node process opens the same file), got 'sqlite:'"],
    [['node', '--name', 'a', '--store', 'sqlite::memory:'], "--store sqlite: needs a file path (every node process opens the same file), got 'sqlite::memory:'"],
    [['node', '--name', 'a', '--store', 'postgres://u:secret@h'], "--store postgres:// needs a host and a database (postgres://USER@HOST:5432/DB), got 'postgres://u:***@h'"],
    [['node', '--name', 'a', '--store', 'postgres://u:pw@h:99999/db'], "--store must be sqlite:PATH, postgres://USER[:PASS]@HOST[:PORT]/DB or none; 'postgres://u:***@h:99999/db' is not a valid URL"],
    [['node', '--name', 'a', '--store'], '--store needs a value'],
    [['cluster', '--store', 'redis://x'], "--store must be sqlite:PATH, postgres://USER[:PASS]@HOST[:PORT]/DB or none, got 'redis://x'"],
    [['cluster', '--nodes', '0'], "--nodes must be an integer 1-64, got '0'"],
    [['cluster', '--nodes', '2.5'], "--nodes must be an integer 1-64, got '2.5'"],
    [['cluster', '--base-port', '65530'], "--base-port must be an integer 1-64533, got '65530'"],
    [['bench', '--wait', 'soon'], "--wait must be an integer 0-3600, got 'soon'"],
    [['bench', 'local/oneway'], "not a suite or suite.case: 'local/oneway'"],
  ])('%j → %s', (argv, message) => {
    const e = usageError(argv);
    expect(e.message).toBe(message);
    expect(e.message).not.toContain('\n');
    expect(e.usage).toMatch(/^usage: troupe/);
  });
});

describe('the troupe process on bad input', () => {
  it('bad value: one line, the usage, exit code 2', async () => {
    const p = startCli(['node', '--name', 'a', '--port', 'http']);
    const { code } = await within(p.exited, 15_000, 'exit');
    expect(code).toBe(2);
    expect(p.stderr[0]).toBe("troupe: --port must be an integer 0-65535, got 'http'");
    expect(p.stderr[1]).toMatch(/^usage: troupe node --name NAME/);
  });

  it('unknown command, bad cluster value: exit code 2', async () => {
    const a = startCli(['deploy']);
    const b = startCli(['cluster', '--nodes', 'many']);
    expect((await within(a.exited, 15_000, 'exit')).code).toBe(2);
    expect(a.stderr[0]).toBe("troupe: unknown command 'deploy'");
    expect((await within(b.exited, 15_000, 'exit')).code).toBe(2);
    expect(b.stderr[0]).toBe("troupe: --nodes must be an integer 1-64, got 'many'");
  });
});
