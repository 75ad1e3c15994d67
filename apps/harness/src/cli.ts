#!/usr/bin/env node
/**
 * `node apps/harness/dist/cli.js [--nodes N | --names a,b,c] [--scenarios FILE ...] [--tick MS --tick-timeout MS] [--verbose]`
 *
 * Starts a cluster of real node processes on 127.0.0.1, prints each node's
 * name, URL, creation and OS pid, and the cookie, then keeps it running and
 * prints nodeup/nodedown events until Ctrl-C (which stops every node).
 * Handy for poking at a cluster by hand: `kill -STOP <pid>` one node and watch
 * the others report it down after the tick timeout.
 */
import { resolve } from 'node:path';
import { startCluster, type ClusterOptions } from './cluster.js';
import type { NodeTransportConfig } from './protocol.js';

const USAGE = `usage: troupe-harness [--nodes N | --names a,b,c] [--scenarios FILE]... [--tick MS] [--tick-timeout MS] [--verbose]`;

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const opts: ClusterOptions = { scenarios: [] };
  const transport: NodeTransportConfig = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === '--nodes') opts.nodes = Number(next());
    else if (a === '--names') opts.nodes = next().split(',');
    else if (a === '--scenarios') opts.scenarios!.push(resolve(next()));
    else if (a === '--tick') transport.tickMs = Number(next());
    else if (a === '--tick-timeout') transport.tickTimeoutMs = Number(next());
    else if (a === '--verbose') opts.verbose = true;
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      return 0;
    } else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  opts.transport = transport;
  const c = await startCluster(opts);
  console.log(`cookie ${c.cookie}`);
  for (const h of c.nodes) {
    console.log(`${h.name}  ${h.url}  creation ${h.creation}  os pid ${h.osPid}`);
    h.changed.on('change', () => {
      const e = h.events[h.events.length - 1];
      if (e !== undefined && (e.kind === 'nodeup' || e.kind === 'nodedown')) {
        console.log(`${new Date(e.at).toISOString()} ${h.short}: ${e.kind} ${e.node}${e.kind === 'nodedown' ? ` (${e.reason})` : ''}`);
      }
    });
  }
  console.log('mesh formed; Ctrl-C stops every node');
  await new Promise<void>((r) => {
    process.once('SIGINT', () => r());
    process.once('SIGTERM', () => r());
  });
  await c.stop();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  },
);
