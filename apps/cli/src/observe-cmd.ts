/**
 * `troupe observe --join URL`: an observer (a hidden node with a web page)
 * on a running cluster; and the observer `troupe cluster` starts for its
 * nodes. Parses its own arguments, so it needs nothing from args.ts.
 */
import { parseArgs } from 'node:util';
import { startObserver, type Observer } from '@troupe/observer';

export const USAGE_OBSERVE = `usage: troupe observe --join ws://HOST:PORT [--join ...] [--host 127.0.0.1] [--port 0] [--cookie-file FILE] [--name NAME]
  --join URL          a member's mesh URL (the others are found through its links); repeatable
  --host H            interface of the web page (default 127.0.0.1: this machine only)
  --port P            port of the web page (default 0: any free port)
  --cookie-file FILE  the cluster cookie's file (default: TROUPE_COOKIE, else ~/.troupe.cookie)
  --name NAME         the observer's node name (default observer-<random>@127.0.0.1)
  Joins as a hidden node (not a member) and prints the page's URL with its token; Ctrl-C stops it.`;

class ObserveUsageError extends Error {}

function parse(argv: readonly string[]): { join: string[]; host: string; port: number; cookieFile?: string; name?: string } | 'help' {
  let v;
  try {
    v = parseArgs({
      args: [...argv],
      options: {
        join: { type: 'string', multiple: true },
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '0' },
        'cookie-file': { type: 'string' },
        name: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    throw new ObserveUsageError(e instanceof Error ? e.message : String(e));
  }
  if (v.help) return 'help';
  const join = v.join ?? [];
  if (join.length === 0) throw new ObserveUsageError('--join URL is required (a member\'s mesh URL, ws://host:port)');
  for (const j of join) if (!/^wss?:\/\/[^\s/]+/.test(j)) throw new ObserveUsageError(`--join needs a ws:// or wss:// URL, got '${j}'`);
  const port = Number(v.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ObserveUsageError(`--port must be 0-65535, got '${v.port}'`);
  return { join, host: v.host!, port, ...(v['cookie-file'] === undefined ? {} : { cookieFile: v['cookie-file'] }), ...(v.name === undefined ? {} : { name: v.name }) };
}

/** Runs `troupe observe`; resolves with the exit code once stopped. */
export async function runObserve(argv: readonly string[]): Promise<number> {
  let o;
  try {
    o = parse(argv);
  } catch (e) {
    if (!(e instanceof ObserveUsageError)) throw e;
    process.stderr.write(`troupe: ${e.message}\n${USAGE_OBSERVE}\n`);
    return 2;
  }
  if (o === 'help') {
    console.log(USAGE_OBSERVE);
    return 0;
  }
  const obs = await startObserver(o);
  console.log(`observer ${obs.node.name} joined ${o.join.join(' ')}`);
  console.log(`observer: ${obs.url}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await obs.close();
  return 0;
}

/**
 * The observer of `troupe cluster`: joined to its first node with the
 * cluster's cookie. A failure to start it is reported, never fatal to the
 * cluster. It lives in the cluster command's process and ends with it.
 */
export async function clusterObserver(meshUrl: string, cookie: string, say: (line: string) => void): Promise<Observer | null> {
  try {
    const obs = await startObserver({ join: [meshUrl], cookie, name: 'observer@127.0.0.1' });
    say(`observer: ${obs.url}`);
    return obs;
  } catch (e) {
    say(`observer did not start: ${e instanceof Error ? e.message : String(e)}`);
    return null;
  }
}
