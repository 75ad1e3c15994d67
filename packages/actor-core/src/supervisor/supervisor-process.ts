import { inspect } from 'node:util';
import { Pid } from '../pid.js';
import { isCall, ProtocolRequest, type CallEnvelope } from '../internal/calls.js';
import { formatReason, type ExitReason } from '../exit-reason.js';
import { isExitMessage, type ProcessContext } from '../types.js';
import {
  checkAgainstFlags,
  isSpecProblem,
  resolveChildSpec,
  type ChildType,
  type ResolvedChildSpec,
  type ResolvedFlags,
} from './child-spec.js';
import { onChildExit, planRestart, type ChildView } from './strategy.js';
import { recordRestart } from './restart-intensity.js';
import { stopChild } from './shutdown.js';
import { invokeStart, isSelfAlive, type ChildStartOutcome } from './invoke-start.js';
import { halt, type Ack } from './launch.js';

/** One child as `whichChildren` shows it. `pid` is undefined when stopped or ignored. */
export interface ChildInfo {
  id: string;
  pid: Pid | 'restarting' | undefined;
  type: ChildType;
}

export interface ChildCounts {
  /** Child specs held. */
  specs: number;
  /** Children with a live process. */
  active: number;
  supervisors: number;
  workers: number;
}

/** The requests a supervisor answers (through `node.calls`). */
export type SupRequest =
  | { $sup: 'which_children' }
  | { $sup: 'count_children' }
  | { $sup: 'start_child'; spec: unknown }
  | { $sup: 'terminate_child'; id: unknown }
  | { $sup: 'restart_child'; id: unknown }
  | { $sup: 'delete_child'; id: unknown }
  | { $sup: 'get_child_spec'; id: unknown }
  | { $sup: 'stop'; reason: ExitReason };

/** Sent to itself after a failed restart, so calls and exits are served between attempts (OTP's try_again_restart). */
class TryAgain {
  constructor(readonly id: string) {}
}

interface Child {
  spec: ResolvedChildSpec;
  pid: Pid | 'restarting' | undefined;
}

function isSupRequest(req: unknown): req is ProtocolRequest<SupRequest> {
  return req instanceof ProtocolRequest && typeof req.op === 'object' && req.op !== null && typeof (req.op as { $sup?: unknown }).$sup === 'string';
}

/**
 * The static supervisor's process. Decisions come from `strategy.ts` and
 * `restart-intensity.ts`; this class only starts and stops children and
 * keeps the books.
 */
export class SupervisorProcess {
  /** Start order. */
  private readonly children: Child[] = [];
  private readonly byId = new Map<string, Child>();
  private readonly byPid = new Map<string, Child>();
  private restarts: number[] = [];

  [inspect.custom](): string {
    return `Supervisor<${this.ctx.self.toString()} ${this.flags.strategy}, ${this.children.length} children>`;
  }

  constructor(
    private readonly ctx: ProcessContext,
    private readonly flags: ResolvedFlags,
    private readonly parent: Pid | undefined,
  ) {}

  async run(specs: readonly ResolvedChildSpec[], ack: Ack): Promise<void> {
    for (const spec of specs) {
      const child: Child = { spec, pid: undefined };
      const out = await this.startProc(child);
      if (out !== 'ignore' && 'error' in out) {
        const reason = { shutdown: { failed_to_start_child: spec.id, reason: out.error } };
        await this.terminateAll();
        // No ack here: `launch` acks `{ error: reason }` when the process has ended, so start returns after the exit.
        this.ctx.exit(reason);
      }
      if (out === 'ignore' && spec.restart === 'temporary') continue;
      this.add(child);
    }
    ack({ ok: this.ctx.self });
    for (;;) {
      const m = await this.ctx.receive();
      if (isCall(m) && isSupRequest(m.req)) await this.handleCall(m, m.req.op);
      else if (isCall(m)) this.ctx.node.reply(m.from, { error: { bad_request: m.req } });
      else if (isExitMessage(m)) await this.handleExit(m.from, m.reason);
      else if (m instanceof TryAgain) await this.tryAgain(m.id);
      // Anything else is a stray message: dropped, as OTP's supervisor does (after logging).
    }
  }

  // ---- bookkeeping -------------------------------------------------------

  private add(child: Child): void {
    this.children.push(child);
    this.byId.set(child.spec.id, child);
    if (child.pid instanceof Pid) this.byPid.set(child.pid.key, child);
  }

  private remove(child: Child): void {
    this.setPid(child, undefined);
    this.byId.delete(child.spec.id);
    const i = this.children.indexOf(child);
    if (i >= 0) this.children.splice(i, 1);
  }

  private setPid(child: Child, pid: Child['pid']): void {
    if (child.pid instanceof Pid) this.byPid.delete(child.pid.key);
    child.pid = pid;
    if (pid instanceof Pid) this.byPid.set(pid.key, child);
  }

  private views(): ChildView[] {
    return this.children.map((c) => ({
      id: c.spec.id,
      restart: c.spec.restart,
      significant: c.spec.significant,
      present: c.pid !== undefined,
      running: c.pid instanceof Pid,
    }));
  }

  // ---- acting ------------------------------------------------------------

  /** Starts a child's process; on success records its pid. */
  private async startProc(child: Child): Promise<ChildStartOutcome> {
    const out = await invokeStart(child.spec.start, this.ctx);
    if (!isSelfAlive(this.ctx)) return halt();
    if (out !== 'ignore' && 'ok' in out) this.setPid(child, out.ok);
    return out;
  }

  private async stop(child: Child): Promise<void> {
    const pid = child.pid;
    this.setPid(child, undefined);
    if (!(pid instanceof Pid)) return;
    const reason = await stopChild(this.ctx, pid, child.spec.shutdown);
    if (!isSelfAlive(this.ctx)) return halt();
    if (reason !== 'shutdown' && !(child.spec.shutdown === 'brutal_kill' && reason === 'killed')) {
      this.ctx.node.logger.debug('supervisor: child did not exit with shutdown', { supervisor: this.ctx.self.toString(), child: child.spec.id, reason: formatReason(reason) });
    }
  }

  /** Stops every child, newest first (the reverse of start order, as OTP does). */
  private async terminateAll(): Promise<void> {
    for (const child of [...this.children].reverse()) await this.stop(child);
  }

  private async shutdownWith(reason: ExitReason): Promise<never> {
    await this.terminateAll();
    this.ctx.exit(reason);
  }

  private async handleExit(from: Pid, reason: ExitReason): Promise<void> {
    if (this.parent !== undefined && from.equals(this.parent)) return this.shutdownWith(reason);
    const child = this.byPid.get(from.key);
    if (child === undefined) return; // a child already stopped, or a process we do not supervise
    this.setPid(child, undefined);
    const action = onChildExit(this.views(), child.spec.id, reason, this.flags.autoShutdown);
    if (action.kind === 'restart') {
      const events = this.ctx.node.events;
      if (events.listenerCount('restart') > 0) events.emit('restart', { supervisor: this.ctx.self, child: child.spec.id, pid: from, reason });
      return this.restart(child.spec.id);
    }
    if (action.remove) this.remove(child);
    if (action.kind === 'auto_shutdown') return this.shutdownWith('shutdown');
  }

  private async tryAgain(id: string): Promise<void> {
    const child = this.byId.get(id);
    if (child === undefined || child.pid !== 'restarting') return; // terminated or deleted meanwhile
    return this.restart(id);
  }

  /** One restart (it counts toward intensity) of `id` and the children its strategy takes along. */
  private async restart(id: string): Promise<void> {
    const rec = recordRestart(this.restarts, performance.now(), this.flags);
    this.restarts = rec.times;
    if (rec.exceeded) {
      this.ctx.node.logger.error('supervisor: reached max restart intensity, shutting down', {
        supervisor: this.ctx.self.toString(),
        child: id,
        intensity: this.flags.intensity,
        period: this.flags.period,
      });
      return this.shutdownWith('shutdown');
    }
    const plan = planRestart(this.flags.strategy, this.views(), id);
    for (const t of plan.terminate) await this.stop(this.byId.get(t)!);
    for (const r of plan.remove) this.remove(this.byId.get(r)!);
    for (const s of plan.start) {
      const child = this.byId.get(s)!;
      if (child.pid === 'restarting') this.setPid(child, undefined);
      const out = await this.startProc(child);
      if (out !== 'ignore' && 'error' in out) {
        this.ctx.node.logger.error('supervisor: child restart failed, trying again', {
          supervisor: this.ctx.self.toString(),
          child: s,
          reason: formatReason(out.error),
        });
        this.setPid(child, 'restarting');
        this.ctx.send(this.ctx.self, new TryAgain(s));
        return;
      }
    }
  }

  // ---- requests ----------------------------------------------------------

  private async handleCall(m: CallEnvelope, req: SupRequest): Promise<void> {
    const reply = (v: unknown): void => this.ctx.node.reply(m.from, v);
    switch (req.$sup) {
      case 'which_children':
        return reply(
          [...this.children].reverse().map((c): ChildInfo => ({ id: c.spec.id, pid: c.pid, type: c.spec.type })),
        );
      case 'count_children': {
        const counts: ChildCounts = { specs: this.children.length, active: 0, supervisors: 0, workers: 0 };
        for (const c of this.children) {
          if (c.pid instanceof Pid) counts.active++;
          if (c.spec.type === 'supervisor') counts.supervisors++;
          else counts.workers++;
        }
        return reply(counts);
      }
      case 'get_child_spec': {
        const child = this.byId.get(req.id as string);
        return reply(child === undefined ? { error: 'not_found' } : child.spec);
      }
      case 'start_child':
        return reply(await this.startChild(req.spec));
      case 'terminate_child': {
        const child = this.byId.get(req.id as string);
        if (child === undefined) return reply({ error: 'not_found' });
        await this.stop(child);
        if (child.spec.restart === 'temporary') this.remove(child);
        return reply('ok');
      }
      case 'restart_child': {
        const child = this.byId.get(req.id as string);
        if (child === undefined) return reply({ error: 'not_found' });
        if (child.pid instanceof Pid) return reply({ error: 'running' });
        if (child.pid === 'restarting') return reply({ error: 'restarting' });
        const out = await this.startProc(child);
        return reply(out === 'ignore' ? { ok: undefined } : out);
      }
      case 'delete_child': {
        const child = this.byId.get(req.id as string);
        if (child === undefined) return reply({ error: 'not_found' });
        if (child.pid instanceof Pid) return reply({ error: 'running' });
        if (child.pid === 'restarting') return reply({ error: 'restarting' });
        this.remove(child);
        return reply('ok');
      }
      case 'stop':
        // No reply: the caller's call fails with our exit reason, which `stop` expects.
        return this.shutdownWith(req.reason);
      default:
        return reply({ error: { bad_request: req } });
    }
  }

  private async startChild(raw: unknown): Promise<unknown> {
    const spec = resolveChildSpec(raw);
    if (isSpecProblem(spec)) return { error: { start_spec: spec } };
    const bad = checkAgainstFlags(spec, this.flags);
    if (bad !== null) return { error: { start_spec: bad } };
    const existing = this.byId.get(spec.id);
    if (existing !== undefined) {
      return { error: existing.pid instanceof Pid ? { already_started: existing.pid } : 'already_present' };
    }
    const child: Child = { spec, pid: undefined };
    const out = await this.startProc(child);
    if (out !== 'ignore' && 'error' in out) return out;
    if (out !== 'ignore' || spec.restart !== 'temporary') this.add(child);
    return out === 'ignore' ? { ok: undefined } : out;
  }
}
