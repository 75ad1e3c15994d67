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
import { parseArgs } from 'node:util';
import { startCluster, type ClusterOptions } from './cluster.js';
import type { NodeTransportConfig } from './protocol.js';

const USAGE = `usage: troupe-harness [--nodes N | --names a,b,c] [--scenarios FILE]... [--tick MS] [--tick-timeout MS] [--verbose]`;

/** A number option: absent stays absent; anything but a non-negative integer is a misuse. */
function count(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new Error(`--${flag} must be a non-negative integer, got '${raw}'\n${USAGE}`);
  return Number(raw);
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      options: {
        nodes: { type: 'string' },
        names: { type: 'string' },
        scenarios: { type: 'string', multiple: true },
        tick: { type: 'string' },
        'tick-timeout': { type: 'string' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${USAGE}`);
  }
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  const opts: ClusterOptions = { scenarios: (values.scenarios ?? []).map((f) => resolve(f)) };
  if (values.verbose === true) opts.verbose = true;
  const nodes = values.names?.split(',') ?? count('nodes', values.nodes);
  if (nodes !== undefined) opts.nodes = nodes;
  const transport: NodeTransportConfig = {};
  const tickMs = count('tick', values.tick);
  const tickTimeoutMs = count('tick-timeout', values['tick-timeout']);
  if (tickMs !== undefined) transport.tickMs = tickMs;
  if (tickTimeoutMs !== undefined) transport.tickTimeoutMs = tickTimeoutMs;
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
