import { inspect } from 'node:util';
import { Pid } from '../pid.js';
import { isCall, ProtocolRequest, type CallEnvelope } from '../internal/calls.js';
import { formatReason, type ExitReason } from '../exit-reason.js';
import { isExitMessage, type ProcessContext } from '../types.js';
import { problem, isSpecProblem, resolveChildSpec, type ResolvedChildSpec } from './child-spec.js';
import { shouldRestart } from './strategy.js';
import { recordRestart } from './restart-intensity.js';
import { stopChildren } from './shutdown.js';
import { invokeStart, isSelfAlive } from './invoke-start.js';
import { halt, type Ack } from './launch.js';
import type { ChildCounts } from './supervisor-process.js';
import type { ChildType } from './child-spec.js';

export interface ResolvedDynamicFlags {
  readonly maxChildren: number;
  readonly intensity: number;
  readonly period: number;
  readonly extraArguments: readonly unknown[];
}

/** A DynamicSupervisor child as `whichChildren` shows it: no id, only the pid. */
export interface DynamicChildInfo {
  id: undefined;
  pid: Pid | 'restarting';
  type: ChildType;
}

export type DynRequest =
  | { $dsup: 'start_child'; spec: unknown }
  | { $dsup: 'terminate_child'; pid: unknown }
  | { $dsup: 'which_children' }
  | { $dsup: 'count_children' }
  | { $dsup: 'stop'; reason: ExitReason };

/** Sent to itself after a failed restart (OTP's try_again_restart). */
class TryAgain {
  constructor(readonly key: string) {}
}

interface DynChild {
  spec: ResolvedChildSpec;
  pid: Pid | 'restarting';
}

function isDynRequest(req: unknown): req is ProtocolRequest<DynRequest> {
  return req instanceof ProtocolRequest && typeof req.op === 'object' && req.op !== null && typeof (req.op as { $dsup?: unknown }).$dsup === 'string';
}

/**
 * Elixir's DynamicSupervisor: one_for_one over children started at run
 * time, keyed by pid. A child's spec lives only as long as the child: a
 * temporary child that exits leaves nothing behind.
 */
export class DynamicSupervisorProcess {
  /** Keyed by the child's pid key; a restarting child keeps its last pid's key. */
  private readonly children = new Map<string, DynChild>();
  private restarts: number[] = [];

  [inspect.custom](): string {
    return `DynamicSupervisor<${this.ctx.self.toString()}, ${this.children.size} children>`;
  }

  constructor(
    private readonly ctx: ProcessContext,
    private readonly flags: ResolvedDynamicFlags,
    private readonly parent: Pid | undefined,
  ) {}

  async run(ack: Ack): Promise<void> {
    ack({ ok: this.ctx.self });
    for (;;) {
      const m = await this.ctx.receive();
      if (isCall(m) && isDynRequest(m.req)) await this.handleCall(m, m.req.op);
      else if (isCall(m)) this.ctx.node.reply(m.from, { error: { bad_request: m.req } });
      else if (isExitMessage(m)) await this.handleExit(m.from, m.reason);
      else if (m instanceof TryAgain) await this.tryAgain(m.key);
    }
  }

  /** Stops every child at once: the total time is bounded by the largest shutdown timeout, as OTP's dynamic supervisor does. */
  private async shutdownWith(reason: ExitReason): Promise<never> {
    const targets: { pid: Pid; shutdown: ResolvedChildSpec['shutdown'] }[] = [];
    for (const c of this.children.values()) if (c.pid instanceof Pid) targets.push({ pid: c.pid, shutdown: c.spec.shutdown });
    this.children.clear();
    await stopChildren(this.ctx, targets);
    if (!isSelfAlive(this.ctx)) return halt();
    this.ctx.exit(reason);
  }

  private async handleExit(from: Pid, reason: ExitReason): Promise<void> {
    if (this.parent !== undefined && from.equals(this.parent)) return this.shutdownWith(reason);
    const child = this.children.get(from.key);
    if (child === undefined) return;
    if (!shouldRestart(child.spec.restart, reason)) {
      this.children.delete(from.key);
      return;
    }
    const events = this.ctx.node.events;
    if (events.listenerCount('restart') > 0) events.emit('restart', { supervisor: this.ctx.self, child: null, pid: from, reason });
    return this.restart(from.key, child);
  }

  private async tryAgain(key: string): Promise<void> {
    const child = this.children.get(key);
    if (child === undefined || child.pid !== 'restarting') return;
    return this.restart(key, child);
  }

  private async restart(key: string, child: DynChild): Promise<void> {
    const rec = recordRestart(this.restarts, performance.now(), this.flags);
    this.restarts = rec.times;
    if (rec.exceeded) {
      this.ctx.node.logger.error('dynamic supervisor: reached max restart intensity, shutting down', {
        supervisor: this.ctx.self.toString(),
        intensity: this.flags.intensity,
        period: this.flags.period,
      });
      return this.shutdownWith('shutdown');
    }
    child.pid = 'restarting';
    const out = await invokeStart(child.spec.start, this.ctx, this.flags.extraArguments);
    if (!isSelfAlive(this.ctx)) return halt();
    if (this.children.get(key) !== child) return; // terminated meanwhile
    this.children.delete(key);
    if (out === 'ignore') return; // OTP simple_one_for_one_restart_ignore: the child is dropped
    if ('ok' in out) {
      child.pid = out.ok;
      this.children.set(out.ok.key, child);
      return;
    }
    this.ctx.node.logger.error('dynamic supervisor: child restart failed, trying again', {
      supervisor: this.ctx.self.toString(),
      reason: formatReason(out.error),
    });
    this.children.set(key, child);
    this.ctx.send(this.ctx.self, new TryAgain(key));
  }

  private async handleCall(m: CallEnvelope, req: DynRequest): Promise<void> {
    const reply = (v: unknown): void => this.ctx.node.reply(m.from, v);
    switch (req.$dsup) {
      case 'which_children': {
        const out: DynamicChildInfo[] = [];
        for (const c of this.children.values()) out.push({ id: undefined, pid: c.pid, type: c.spec.type });
        return reply(out);
      }
      case 'count_children': {
        const counts: ChildCounts = { specs: this.children.size, active: 0, supervisors: 0, workers: 0 };
        for (const c of this.children.values()) {
          if (c.pid instanceof Pid) counts.active++;
          if (c.spec.type === 'supervisor') counts.supervisors++;
          else counts.workers++;
        }
        return reply(counts);
      }
      case 'start_child':
        return reply(await this.startChild(req.spec));
      case 'terminate_child': {
        const pid = req.pid;
        const child = pid instanceof Pid ? this.children.get(pid.key) : undefined;
        if (child === undefined || !(pid instanceof Pid)) return reply({ error: 'not_found' });
        this.children.delete(pid.key);
        await stopChildren(this.ctx, [{ pid, shutdown: child.spec.shutdown }]);
        if (!isSelfAlive(this.ctx)) return halt();
        return reply('ok');
      }
      case 'stop':
        return this.shutdownWith(req.reason);
      default:
        return reply({ error: { bad_request: req } });
    }
  }

  private async startChild(raw: unknown): Promise<unknown> {
    const spec = resolveChildSpec(raw, false);
    if (isSpecProblem(spec)) return { error: { start_spec: spec } };
    if (spec.significant) {
      return { error: { start_spec: problem('bad_combination', { significant: true }, 'DynamicSupervisor children cannot be significant (there is no autoShutdown)') } };
    }
    if (this.children.size >= this.flags.maxChildren) return { error: 'max_children' };
    const out = await invokeStart(spec.start, this.ctx, this.flags.extraArguments);
    if (!isSelfAlive(this.ctx)) return halt();
    if (out === 'ignore') return 'ignore'; // Elixir's DynamicSupervisor answers :ignore
    if ('ok' in out) this.children.set(out.ok.key, { spec, pid: out.ok });
    return out;
  }
}
