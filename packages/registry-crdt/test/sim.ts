import { SyncEngine } from '../src/crdt/engine.js';
import type { EngineOptions } from '../src/crdt/engine-options.js';
import type { Entry, Out } from '../src/crdt/types.js';

/** mulberry32: a small seeded PRNG, so every simulated run is reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Faults {
  drop: number;
  dup: number;
  /** Max extra delay (virtual ms); > 0 reorders frames on a link. */
  jitter: number;
}

export const NO_FAULTS: Faults = { drop: 0, dup: 0, jitter: 0 };

interface Frame {
  at: number;
  n: number;
  from: string;
  to: string;
  msg: unknown;
}

export type SimValue = { v: number };

/**
 * A deterministic network of sync engines: virtual time, seeded drop /
 * duplicate / reorder per frame, links cut and healed (a cut is a nodedown
 * on both sides: the engines drop each other's entries). Frames are cloned
 * as they would be by a wire codec.
 */
export class SimNet {
  readonly engines = new Map<string, SyncEngine<SimValue>>();
  private readonly incs = new Map<string, number>();
  private readonly cut = new Set<string>();
  private queue: Frame[] = [];
  now = 0;
  private n = 0;
  faults: Faults = NO_FAULTS;
  delivered = 0;
  /** Owner digest at every seq, to check that a replica only ever holds an owner's real past state. */
  readonly history = new Map<string, Map<number, number>>();
  violations = 0;

  constructor(
    readonly rand: () => number,
    private readonly opts: Partial<EngineOptions<SimValue>> = {},
  ) {}

  add(name: string): SyncEngine<SimValue> {
    const inc = (this.incs.get(name) ?? 0) + 1;
    this.incs.set(name, inc);
    const e = new SyncEngine<SimValue>({
      ...this.opts,
      self: { peer: name, inc },
      acceptValue: (v) => typeof v === 'object' && v !== null && typeof (v as SimValue).v === 'number',
    });
    const hk = `${name}#${inc}`;
    this.history.set(hk, new Map([[0, 0]]));
    this.engines.set(name, e);
    for (const other of this.engines.keys()) {
      if (other === name) continue;
      this.connect(name, other);
    }
    return e;
  }

  /** Replaces `name` by a new incarnation (a crash and restart), without telling anyone first. */
  restart(name: string): SyncEngine<SimValue> {
    this.engines.delete(name);
    for (const [k, e] of this.engines) if (!this.cut.has(linkKey(name, k))) e.removePeer(name);
    return this.add(name);
  }

  private connect(a: string, b: string): void {
    if (this.cut.has(linkKey(a, b))) return;
    this.send(a, this.engines.get(a)!.addPeer(b));
    this.send(b, this.engines.get(b)!.addPeer(a));
  }

  /** Cuts the link (both sides see nodedown; frames in flight are lost). */
  split(a: string, b: string): void {
    this.cut.add(linkKey(a, b));
    this.queue = this.queue.filter((f) => !((f.from === a && f.to === b) || (f.from === b && f.to === a)));
    this.engines.get(a)?.removePeer(b);
    this.engines.get(b)?.removePeer(a);
  }

  heal(a: string, b: string): void {
    this.cut.delete(linkKey(a, b));
    this.connect(a, b);
  }

  connected(a: string, b: string): boolean {
    return !this.cut.has(linkKey(a, b));
  }

  /** A local write on `name`, recorded in the owner history. */
  mutate(name: string, f: (e: SyncEngine<SimValue>) => void): void {
    const e = this.engines.get(name)!;
    f(e);
    this.history.get(`${name}#${e.self.inc}`)!.set(e.upTo, e.digest);
  }

  send(from: string, outs: Out<SimValue>[]): void {
    for (const o of outs) {
      if (this.cut.has(linkKey(from, o.to))) continue;
      const r = this.rand;
      if (r() < this.faults.drop) continue;
      const copies = r() < this.faults.dup ? 2 : 1;
      for (let i = 0; i < copies; i++) {
        const delay = 1 + (this.faults.jitter > 0 ? Math.floor(r() * this.faults.jitter) : 0);
        this.queue.push({ at: this.now + delay, n: this.n++, from, to: o.to, msg: structuredClone(o.msg) });
      }
    }
  }

  /** Delivers frames due up to `now + ms`, flushing every engine after each virtual ms. */
  run(ms: number): void {
    const end = this.now + ms;
    while (this.now < end) {
      this.now++;
      this.queue.sort((x, y) => x.at - y.at || x.n - y.n);
      let i = 0;
      while (i < this.queue.length && this.queue[i]!.at <= this.now) i++;
      const due = this.queue.splice(0, i);
      for (const f of due) {
        const e = this.engines.get(f.to);
        if (e === undefined || this.cut.has(linkKey(f.from, f.to))) continue;
        this.delivered++;
        this.send(f.to, e.receive(f.from, f.msg));
        this.check(e);
      }
      for (const [name, e] of this.engines) this.send(name, e.flush());
    }
  }

  /** Anti-entropy round on every engine (`full: false`: only towards peers not known to be in sync). */
  tick(full = true): void {
    for (const [name, e] of this.engines) this.send(name, e.tick(full));
  }

  get inFlight(): number {
    return this.queue.length;
  }

  /** Faults off, then anti-entropy rounds until every connected pair agrees (bounded). */
  quiesce(maxRounds = 20, full = true): number {
    this.faults = NO_FAULTS;
    for (let round = 0; round < maxRounds; round++) {
      this.tick(full);
      this.run(50);
      if (this.converged()) return round;
    }
    throw new Error(`no convergence after ${maxRounds} rounds: ${JSON.stringify(this.diverged())}`);
  }

  /** Each replica's copy of each connected origin is exactly the owner's state. */
  converged(): boolean {
    return this.diverged().length === 0;
  }

  diverged(): string[] {
    const bad: string[] = [];
    for (const [a, ea] of this.engines) {
      const mine = dump(ea.ownEntries());
      for (const [b, eb] of this.engines) {
        if (a === b || !this.connected(a, b)) continue;
        const info = eb.partitionInfo(ea.self);
        const theirs = dump([...eb.allEntries()].filter((x) => x.origin.peer === a && x.origin.inc === ea.self.inc));
        if (info === undefined ? ea.upTo !== 0 : info.up !== ea.upTo || info.dg !== ea.digest || theirs !== mine) bad.push(`${b} has ${a} at ${info?.up ?? 'none'} (owner ${ea.upTo})`);
      }
    }
    return bad;
  }

  /** A replica's copy of an origin must be the owner's state at that `upTo` (never a mix). */
  private check(e: SyncEngine<SimValue>): void {
    for (const [k, h] of this.history) {
      const [peer, inc] = k.split('#');
      const info = e.partitionInfo({ peer: peer!, inc: Number(inc) });
      if (info === undefined || e.self.peer === peer) continue;
      const want = h.get(info.up);
      if (want !== undefined && want !== info.dg) this.violations++;
    }
  }
}

function linkKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

export function dump(es: Iterable<Entry<SimValue>>): string {
  return [...es]
    .map((e) => `${e.id}:${e.key}:${e.value.v}:${e.ver}`)
    .sort()
    .join(',');
}

/** A random own mutation: add (60%), remove (25%) or update (15%). */
export function randomOp(net: SimNet, name: string, r: () => number, keys = 50): void {
  net.mutate(name, (e) => {
    const own = [...e.ownEntries()];
    const x = r();
    if (own.length === 0 || x < 0.6) e.add(`k${Math.floor(r() * keys)}`, { v: Math.floor(r() * 1000) });
    else if (x < 0.85) e.remove(own[Math.floor(r() * own.length)]!.id);
    else e.update(own[Math.floor(r() * own.length)]!.id, { v: Math.floor(r() * 1000) });
  });
}
