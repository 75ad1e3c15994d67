/**
 * The other side of the `remote` suite: scenarios node B runs (B is a node
 * process started by @troupe/harness; the bench case's own process is node A).
 * Imported only inside B.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import { Packr } from 'msgpackr';
import type { AddressInfo } from 'node:net';
import { GenServer, Rpc, isStarted, type Pid, type ProcessContext } from '@troupe/actor-core';
import type { Scenarios } from '@troupe/harness';

/** Bare pipe frame types (first byte). */
export const BARE = { Batch: 1, Request: 2, Reply: 3, Ack: 4 } as const;

/** The codec settings Troupe's SignalCodec uses (plain maps, no records), so the baseline pays the same decode. */
export function barePackr(): Packr {
  return new Packr({ useRecords: false, moreTypes: true });
}

/** Counts messages and acknowledges every `ackEvery` to `ackTo` (the sender's flow control). */
class Sink {
  count = 0;
  constructor(
    private readonly ackTo: Pid,
    private readonly ackEvery: number,
  ) {}
  handle(_m: unknown, ctx: ProcessContext): void {
    if (++this.count % this.ackEvery === 0) ctx.send(this.ackTo, { ack: this.count });
  }
}

/** Answers every message to the pinger it was told about. */
class Ponger {
  peer: Pid | null = null;
  handle(m: unknown, ctx: ProcessContext): void {
    if (this.peer === null) {
      this.peer = (m as { peer: Pid }).peer;
      return;
    }
    ctx.send(this.peer, m);
  }
}

const echo: GenServer<null, unknown, never, unknown> = {
  name: 'bench_remote_echo',
  init: () => ({ ok: null }),
  handleCall: (req, _from, state) => ({ reply: req, state }),
};

export const scenarios: Scenarios = {
  /**
   * A bare `ws` server with the same msgpackr settings as Troupe: batches of
   * `[kind, to, msg]` tuples are decoded and each item is delivered to a
   * handler looked up by `to` (acked every `ackEvery`); requests are decoded
   * and answered. Resolves to its URL.
   */
  async bareServer(env, ackEvery: number): Promise<string> {
    const packr = barePackr();
    const handlers = new Map<number, { count: number }>([[1, { count: 0 }]]);
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    wss.on('connection', (ws: WebSocket) => {
      let total = 0;
      ws.on('message', (data: Buffer) => {
        const type = data[0];
        if (type === BARE.Batch) {
          const items = packr.unpack(data.subarray(1)) as [number, number, unknown][];
          for (let i = 0; i < items.length; i++) {
            const h = handlers.get(items[i]![1]);
            if (h !== undefined) h.count++;
            if (++total % ackEvery === 0) {
              const ack = Buffer.allocUnsafe(5);
              ack[0] = BARE.Ack;
              ack.writeUInt32LE(total >>> 0, 1);
              ws.send(ack);
            }
          }
        } else if (type === BARE.Request) {
          const req = packr.unpack(data.subarray(1)) as [number, number, unknown];
          const body = packr.pack([0, req[1], req[2]]);
          const out = Buffer.allocUnsafe(body.length + 1);
          out[0] = BARE.Reply;
          body.copy(out, 1);
          ws.send(out);
        }
      });
    });
    env.store.set('bare', wss);
    return `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  },

  /** A sink acknowledging every `ackEvery` messages to `ackTo`. */
  startSink(env, ackTo: Pid, ackEvery: number): Pid {
    return env.node.spawn(new Sink(ackTo, ackEvery));
  },

  startPonger(env): Pid {
    return env.node.spawn(new Ponger());
  },

  async startEcho(env): Promise<Pid> {
    const r = await GenServer.start(env.node, echo, undefined);
    if (!isStarted(r)) throw new Error('echo did not start');
    return r.ok;
  },

  exposeRpc(env): boolean {
    Rpc.expose(env.node, 'echo', (args) => args[0]);
    return true;
  },

  /** This process's CPU time so far (µs, user + system): the runner counts it as the case's own. */
  cpu(): number {
    const u = process.cpuUsage();
    return u.user + u.system;
  },
};
