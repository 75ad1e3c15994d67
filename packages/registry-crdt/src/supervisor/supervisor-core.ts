import {
  isExitMessage,
  isNormalExit,
  isStarted,
  reasonFromThrown,
  type ExitReason,
  type Node,
  type Pid,
  type ProcessContext,
  type ReplyTo,
  type StartResult,
  RestartIntensity,
} from '@troupe/actor-core';
import type { Diff, Entry } from '../crdt/types.js';
import { smallInt, winnerOf, type ConflictRule } from '../registry/conflict.js';
import type { Hlc } from '../registry/hlc.js';
import { isNameConflict, type NameConflict, type Registry } from '../registry/registry.js';
import type { Replica } from '../sync/replica.js';
import { behaviourOf } from './behaviours.js';
import { Orphans } from './orphans.js';
import { DRAIN_KEY, isRecord, isRunning, type ChildRecord, type SupValue } from './record.js';
import type { WireSpec } from './spec.js';
import type { DistStartChildResult, PlacementStrategy, StartInfo } from './types.js';

/** Requests to a node's supervisor server (from its own facade or a peer's). */
export type ServerCall =
  | { $ds: 'start'; key: string; spec: WireSpec; force: boolean }
  | { $ds: 'terminate'; key: string }
  | { $ds: 'drain_begin' }
  | { $ds: 'handoff_stop'; key: string; ho: unknown }
  | { $ds: 'drain_wait'; timeoutMs: number }
  | { $ds: 'stop_all' };

/** `start` on a node that will not take children (draining): ask the next one. */
export interface Redirect {
  $redirect: true;
}

export interface LocalChildView {
  key: string;
  pid: Pid;
  behaviour: string;
}

type Info =
  | { $dsi: 'kick' }
  | { $dsi: 'tick' }
  | { $dsi: 'restart'; key: string }
  | { $dsi: 'kill'; key: string; pid: Pid }
  | { $dsi: 'drain_timeout' };

function isInfo(m: unknown): m is Info {
  return typeof m === 'object' && m !== null && typeof (m as { $dsi?: unknown }).$dsi === 'string';
}

type StopWhy = 'terminate' | 'handoff' | 'dup' | 'shutdown';

interface LocalChild {
  readonly key: string;
  entryId: number;
  rec: ChildRecord;
  /** null while a restart is pending. */
  pid: Pid | null;
  stopping: { why: StopWhy; from: ReplyTo | null; ho: unknown } | null;
}

export interface CoreOptions {
  node: Node;
  name: string;
  replica: Replica<SupValue>;
  strategy: PlacementStrategy;
  conflict: ConflictRule;
  registry: Registry | undefined;
  hlc: Hlc;
  /** OTP's restart intensity: more than `intensity` restarts within `period` seconds and the supervisor gives up. */
  intensity: number;
  period: number;
  orphanGraceMs: number;
  tickMs: number;
}

const KICK: Info = { $dsi: 'kick' };
const TICK: Info = { $dsi: 'tick' };

/**
 * The per-node half of a DistributedSupervisor, run by its server process
 * (a GenServer trapping exits): it supervises the children placed here,
 * writes their records, and reacts to what the replica learns — duplicate
 * copies (the loser's node stops its copy), lost or relinquished children
 * (take-over), adoptions of its own relinquished children (drain).
 *
 * The replica calls `onDiff` in its own process: that only queues work and
 * kicks the server, so every child operation happens in the server.
 */
export class SupervisorCore {
  readonly node: Node;
  ctx: ProcessContext | null = null;
  private readonly children = new Map<string, LocalChild>();
  private readonly byPid = new Map<string, LocalChild>();
  private readonly orphans = new Orphans();
  private readonly conflictKeys = new Set<string>();
  private readonly adoptedKeys = new Set<string>();
  private readonly pendingRegs = new Set<string>();
  private readonly intensity: RestartIntensity;
  private kickArmed = false;
  /** When a peer's new running record last arrived (see `Orphans.due`). */
  private progressAt = 0;
  private tickArmed = false;
  draining = false;
  private drainWaiters: ReplyTo[] = [];
  private stopWaiters: ReplyTo[] = [];
  readonly counters = { started: 0, restarted: 0, takenOver: 0, adopted: 0, duplicatesStopped: 0, handedOff: 0 };

  constructor(private readonly o: CoreOptions) {
    this.node = o.node;
    this.intensity = new RestartIntensity({ intensity: o.intensity, period: o.period });
  }

  // ---- placement view (also read by the facade) -------------------------------------------

  /** Placement targets: `alive` members that are not draining (nor this node while it drains). */
  targets(): string[] {
    const alive = this.o.replica.aliveNodes();
    const draining = new Set<string>();
    if (this.o.replica.alive) for (const e of this.o.replica.engine.entries(DRAIN_KEY) ?? []) draining.add(e.origin.peer);
    if (this.draining) draining.add(this.node.name);
    return draining.size === 0 ? alive : alive.filter((n) => !draining.has(n));
  }

  /** The surviving running copy of `key` (the conflict winner), if any. */
  running(key: string): Entry<ChildRecord> | undefined {
    if (!this.o.replica.alive) return undefined;
    const es = this.o.replica.engine.entries(key);
    if (es === undefined) return undefined;
    const run = es.filter(isRunning);
    return run.length === 0 ? undefined : run.length === 1 ? run[0] : winnerOf(this.o.conflict, run);
  }

  get replicaPid(): Pid {
    return this.o.replica.pid;
  }

  get localCount(): number {
    return this.children.size;
  }

  get orphanCount(): number {
    return this.orphans.size;
  }

  // ---- replica side: queue work, kick the server -------------------------------------------

  onDiff(d: Diff<SupValue>): void {
    const engine = this.o.replica.engine;
    const now = Date.now();
    if (d.dropped !== undefined) {
      // The owner is gone with its children: running ones are restarted (unless temporary), relinquished ones adopted.
      const from = d.dropped.peer;
      for (const e of d.removed) {
        const v = e.value;
        if (!isRecord(v) || (v.st === 'run' && v.meta.restart === 'temporary')) continue;
        this.orphans.add({ key: e.key, spec: v.meta, from, gen: v.gen, handoff: v.st === 'off', ho: v.ho }, now);
      }
    } else {
      for (const list of [d.added, d.updated]) {
        for (const e of list) {
          const v = e.value;
          if (!isRecord(v)) continue;
          this.o.hlc.observe(v.at, v.lc);
          const own = e.origin.peer === engine.self.peer;
          if (v.st === 'run') {
            if (!own) this.progressAt = now;
            if (engine.entryCount(e.key) >= 2) {
              this.conflictKeys.add(e.key);
              if (!own) this.adoptedKeys.add(e.key);
            }
          } else if (!own) {
            this.orphans.add({ key: e.key, spec: v.meta, from: e.origin.peer, gen: v.gen, handoff: true, ho: v.ho }, now);
          }
        }
      }
    }
    this.kick();
  }

  private kick(): void {
    if (this.kickArmed || this.ctx === null) return;
    this.kickArmed = true;
    this.node.send(this.ctx.self, KICK);
  }

  private armTick(): void {
    if (this.tickArmed || this.ctx === null || (this.orphans.size === 0 && this.pendingRegs.size === 0)) return;
    this.tickArmed = true;
    this.ctx.sendAfter(this.o.tickMs, this.ctx.self, TICK);
  }

  // ---- server callbacks -------------------------------------------------------------------------

  async handleCall(req: ServerCall, from: ReplyTo): Promise<{ reply: unknown } | { noreply: true }> {
    switch (req.$ds) {
      case 'start': {
        if (this.draining && !req.force) return { reply: { $redirect: true } satisfies Redirect };
        const r = this.running(req.key);
        if (r !== undefined) return { reply: { error: { already_started: r.value.pid, node: r.origin.peer } } };
        return { reply: await this.startHere(req.key, req.spec, { id: req.key, handoff: undefined, generation: 0, from: undefined }) };
      }
      case 'terminate': {
        const c = this.children.get(req.key);
        if (c === undefined || c.stopping !== null) return { reply: { error: 'not_found' } };
        if (c.pid === null) {
          this.forget(c, true);
          return { reply: 'ok' };
        }
        this.stopChild(c, 'terminate', from, undefined);
        return { noreply: true };
      }
      case 'drain_begin': {
        if (!this.draining) {
          this.draining = true;
          // First in our log: peers see it before any relinquished record, so none is placed back here.
          this.o.replica.engine.add(DRAIN_KEY, { drain: true });
          this.o.replica.touch();
        }
        const list: LocalChildView[] = [];
        for (const c of this.children.values()) if (c.pid !== null && c.stopping === null) list.push({ key: c.key, pid: c.pid, behaviour: c.rec.meta.behaviour });
        return { reply: list };
      }
      case 'handoff_stop': {
        const c = this.children.get(req.key);
        if (c === undefined || c.stopping !== null || c.pid === null) return { reply: 'gone' };
        this.stopChild(c, 'handoff', from, req.ho);
        return { noreply: true };
      }
      case 'drain_wait': {
        // No other member can adopt now: waiting out the timeout would change nothing.
        if (this.ownRecords() === 0 || this.targets().length === 0) return { reply: this.ownRecords() };
        this.drainWaiters.push(from);
        this.ctx!.sendAfter(req.timeoutMs, this.ctx!.self, { $dsi: 'drain_timeout' } satisfies Info);
        return { noreply: true };
      }
      case 'stop_all': {
        this.draining = true; // no new children while stopping
        for (const c of [...this.children.values()]) {
          if (c.pid === null) this.forget(c, true);
          else if (c.stopping === null) this.stopChild(c, 'shutdown', null, undefined);
        }
        if (this.children.size === 0) return { reply: 'ok' };
        this.stopWaiters.push(from);
        return { noreply: true };
      }
    }
  }

  /** Returns an exit reason when the server must stop (restart intensity reached, replica gone). */
  async handleInfo(msg: unknown): Promise<ExitReason | undefined> {
    if (isExitMessage(msg)) return this.onExit(msg.from, msg.reason);
    if (!isInfo(msg)) return undefined;
    switch (msg.$dsi) {
      case 'kick':
        this.kickArmed = false;
        return this.work();
      case 'tick':
        this.tickArmed = false;
        return this.work();
      case 'restart': {
        const c = this.children.get(msg.key);
        if (c !== undefined && c.pid === null && c.stopping === null) return this.restart(c);
        return undefined;
      }
      case 'kill': {
        const c = this.byPid.get(msg.pid.key);
        if (c !== undefined && c.stopping !== null) this.exitSignal(msg.pid, 'kill');
        return undefined;
      }
      case 'drain_timeout':
        this.settleDrain(true);
        return undefined;
    }
  }

  /** Best effort when the server ends without `stop_all` (crash): linked children get the exit signal anyway unless it is normal. */
  terminate(): void {
    for (const c of this.children.values()) if (c.pid !== null) this.exitSignal(c.pid, 'shutdown');
  }

  // ---- work: duplicates, adoptions, orphans, pending registrations -------------------------------

  private async work(): Promise<ExitReason | undefined> {
    if (!this.o.replica.alive) return undefined;
    const engine = this.o.replica.engine;
    for (const key of this.conflictKeys) this.settleConflict(key);
    this.conflictKeys.clear();
    if (this.adoptedKeys.size > 0) {
      for (const key of this.adoptedKeys) {
        // Our relinquished record is superseded by the new home's running one.
        for (const e of engine.entries(key) ?? []) {
          if (e.origin.peer === engine.self.peer && isRecord(e.value) && e.value.st === 'off' && this.running(key) !== undefined) engine.remove(e.id);
        }
      }
      this.adoptedKeys.clear();
      this.o.replica.touch();
      this.settleDrain(false);
    }
    for (const key of [...this.pendingRegs]) {
      const c = this.children.get(key);
      if (c === undefined || c.pid === null || c.stopping !== null) this.pendingRegs.delete(key);
      else this.tryRegister(c);
    }
    if (this.orphans.size > 0 && !this.draining) {
      const due = this.orphans.due(this.node.name, Date.now(), this.o.orphanGraceMs, this.progressAt, this.targets(), this.o.strategy, (k) => this.running(k) !== undefined || this.children.has(k));
      for (const o of due) {
        if (!this.o.replica.alive) break;
        if (this.running(o.key) !== undefined || this.children.has(o.key)) {
          this.orphans.delete(o.key);
          continue;
        }
        const r = await this.startHere(o.key, o.spec, { id: o.key, handoff: o.ho, generation: o.gen + 1, from: o.from });
        if (r === 'ignore' || 'ok' in r) {
          this.orphans.delete(o.key);
          if (o.handoff) this.counters.adopted++;
          else this.counters.takenOver++;
        } else {
          o.failed = true;
          this.node.logger.warn('distributed supervisor: cannot adopt a child here; leaving it to the next candidate', { sup: this.o.name, id: o.key, error: r.error });
        }
      }
    }
    this.armTick();
    return undefined;
  }

  /** Several running copies of `key`: the node of each loser stops its own (the Registry's rule, computed alike everywhere). */
  private settleConflict(key: string): void {
    const c = this.children.get(key);
    if (c === undefined || c.stopping !== null) return;
    const run = (this.o.replica.engine.entries(key) ?? []).filter(isRunning);
    if (run.length < 2) return;
    const w = winnerOf(this.o.conflict, run);
    if (w.id === c.entryId && w.origin.peer === this.node.name) return;
    this.counters.duplicatesStopped++;
    this.node.logger.info('distributed supervisor: duplicate child, stopping the local copy', { sup: this.o.name, id: key, winner: w.value.pid.toString() });
    if (c.pid === null) {
      this.forget(c, true);
      return;
    }
    this.stopChild(c, 'dup', null, undefined, { name_conflict: { name: key, value: null, registry: `dsup:${this.o.name}`, winner: w.value.pid } } satisfies NameConflict);
    // The winner is visible everywhere already; withdraw our record now rather than at the exit.
    this.o.replica.engine.remove(c.entryId);
    this.o.replica.touch();
  }

  // ---- local children ----------------------------------------------------------------------------------------------

  private async spawnChild(key: string, spec: WireSpec, info: StartInfo): Promise<StartResult | { error: { unknown_behaviour: string } }> {
    const b = behaviourOf(this.node, spec.behaviour);
    if (b === undefined) return { error: { unknown_behaviour: spec.behaviour } };
    try {
      return await b.start(this.ctx!, spec.args, info);
    } catch (e) {
      return { error: reasonFromThrown(e) };
    }
  }

  /** Starts `key` here and writes its record (only after it started: no speculative writes). */
  async startHere(key: string, spec: WireSpec, info: StartInfo): Promise<DistStartChildResult> {
    const self = this.node.name;
    if (this.children.has(key)) return { error: { already_started: this.children.get(key)!.pid ?? this.ctx!.self, node: self } };
    const r = await this.spawnChild(key, spec, info);
    if (r === 'ignore') return 'ignore';
    if (!isStarted(r)) {
      const err = r.error as unknown;
      if (typeof err === 'object' && err !== null && 'unknown_behaviour' in err) return { error: { unknown_behaviour: spec.behaviour, node: self } };
      return { error: { start_failed: err, node: self } };
    }
    const pid = r.ok;
    if (pid.node !== self || !this.o.replica.alive) {
      this.exitSignal(pid, 'kill');
      return { error: { start_failed: 'child_not_local', node: self } };
    }
    this.ctx!.link(pid);
    const [at, lc] = this.o.hlc.now();
    const rec: ChildRecord = { pid, meta: spec, at, lc: smallInt(lc), st: 'run', gen: info.generation };
    const c: LocalChild = { key, entryId: 0, rec, pid, stopping: null };
    // Indexed before the write: the diff it triggers may already judge a conflict.
    this.children.set(key, c);
    this.byPid.set(pid.key, c);
    c.entryId = this.o.replica.engine.add(key, rec).id;
    this.o.replica.touch();
    this.counters.started++;
    if (spec.named) this.tryRegister(c);
    return { ok: pid, node: self };
  }

  private async restart(c: LocalChild): Promise<ExitReason | undefined> {
    if (this.intensity.exceeded(Date.now())) {
      this.node.logger.error('distributed supervisor: restart intensity reached, stopping this node’s instance', { sup: this.o.name, id: c.key });
      return 'shutdown';
    }
    const r = await this.spawnChild(c.key, c.rec.meta, { id: c.key, handoff: undefined, generation: c.rec.gen, from: undefined });
    if (this.children.get(c.key) !== c || c.stopping !== null) {
      if (isStarted(r)) this.exitSignal(r.ok, 'kill');
      return undefined;
    }
    if (r === 'ignore') {
      this.forget(c, true);
      return undefined;
    }
    if (!isStarted(r) || r.ok.node !== this.node.name) {
      // OTP keeps trying (each attempt counts toward the intensity).
      this.node.send(this.ctx!.self, { $dsi: 'restart', key: c.key } satisfies Info);
      return undefined;
    }
    this.ctx!.link(r.ok);
    c.pid = r.ok;
    c.rec = { ...c.rec, pid: r.ok };
    this.byPid.set(r.ok.key, c);
    // Same record (same claim stamp): a local restart is not a new claim.
    if (this.o.replica.alive && this.o.replica.engine.ownEntry(c.entryId) !== undefined) {
      this.o.replica.engine.update(c.entryId, c.rec);
      this.o.replica.touch();
    }
    this.counters.restarted++;
    if (c.rec.meta.named) this.tryRegister(c);
    return undefined;
  }

  /**
   * Exit signals to children come from this supervisor process (a trapping
   * child GenServer then runs `terminate`, as OTP's parent rule says), not
   * from outside any process.
   */
  private exitSignal(pid: Pid, reason: ExitReason): void {
    if (this.ctx !== null) this.ctx.exit(pid, reason);
    else this.node.exit(pid, reason);
  }

  private stopChild(c: LocalChild, why: StopWhy, from: ReplyTo | null, ho: unknown, reason: ExitReason = why === 'handoff' ? { shutdown: 'handoff' } : 'shutdown'): void {
    const pid = c.pid!;
    c.stopping = { why, from, ho };
    const sd = c.rec.meta.shutdown;
    if (sd === 'brutal_kill') this.exitSignal(pid, 'kill');
    else {
      this.exitSignal(pid, reason);
      this.ctx!.sendAfter(sd, this.ctx!.self, { $dsi: 'kill', key: c.key, pid } satisfies Info);
    }
  }

  private async onExit(pid: Pid, reason: ExitReason): Promise<ExitReason | undefined> {
    const c = this.byPid.get(pid.key);
    if (c === undefined) {
      // The replica is linked to us: without it we cannot keep records.
      if (pid.equals(this.o.replica.pid)) return reason === 'normal' ? 'shutdown' : reason;
      return undefined;
    }
    this.byPid.delete(pid.key);
    c.pid = null;
    const s = c.stopping;
    if (s !== null) {
      if (s.why === 'handoff') {
        // Relinquish: peers adopt it from this record (with the hand-off data).
        const off: ChildRecord = { ...c.rec, st: 'off', ...(s.ho === undefined ? {} : { ho: s.ho }) };
        this.children.delete(c.key);
        if (this.o.replica.alive && this.o.replica.engine.ownEntry(c.entryId) !== undefined) {
          this.o.replica.engine.update(c.entryId, off);
          this.o.replica.touch();
        }
        this.counters.handedOff++;
      } else this.forget(c, true);
      if (s.from !== null) this.node.reply(s.from, 'ok');
      this.settleStop();
      return undefined;
    }
    if (isNameConflict(reason)) {
      // The registry picked another copy (it orders claims as we do): this one is a duplicate, never restarted.
      this.counters.duplicatesStopped++;
      this.forget(c, true);
      return undefined;
    }
    const restart = c.rec.meta.restart;
    if (restart === 'temporary' || (restart === 'transient' && isNormalExit(reason))) {
      this.forget(c, true);
      return undefined;
    }
    return this.restart(c);
  }

  /** Drops a local child and (if `withRecord`) its record. */
  private forget(c: LocalChild, withRecord: boolean): void {
    if (this.children.get(c.key) === c) this.children.delete(c.key);
    if (c.pid !== null) this.byPid.delete(c.pid.key);
    this.pendingRegs.delete(c.key);
    if (withRecord && this.o.replica.alive && this.o.replica.engine.ownEntry(c.entryId) !== undefined) {
      this.o.replica.engine.remove(c.entryId);
      this.o.replica.touch();
    }
  }

  /**
   * Claims a named child's name with its record's stamp. A name still held
   * by another copy (a node whose down the registry has not processed yet,
   * or a duplicate about to be settled) is retried on the next tick.
   */
  private tryRegister(c: LocalChild): void {
    const reg = this.o.registry;
    if (reg === undefined || !reg.running || c.pid === null) return;
    const held = reg.lookup(c.key);
    if (held !== undefined && 'pid' in held && held.pid.equals(c.pid)) {
      this.pendingRegs.delete(c.key);
      return;
    }
    const r = reg.registerStamped(c.key, c.pid, null, { at: c.rec.at, lc: c.rec.lc });
    if (r === 'ok') this.pendingRegs.delete(c.key);
    else {
      this.pendingRegs.add(c.key);
      this.armTick();
    }
  }

  private ownRecords(): number {
    if (!this.o.replica.alive) return 0;
    let n = 0;
    for (const e of this.o.replica.engine.ownEntries()) if (isRecord(e.value)) n++;
    return n;
  }

  private settleDrain(timedOut: boolean): void {
    if (this.drainWaiters.length === 0) return;
    const left = this.ownRecords();
    if (left > 0 && !timedOut) return;
    for (const w of this.drainWaiters.splice(0)) this.node.reply(w, left);
  }

  private settleStop(): void {
    if (this.stopWaiters.length === 0 || this.children.size > 0) return;
    for (const w of this.stopWaiters.splice(0)) this.node.reply(w, 'ok');
  }
}
