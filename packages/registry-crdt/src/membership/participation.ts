import type { ProcessContext, Ref } from '@troupe/actor-core';
import { isNodeEvent } from './auto.js';
import { isPgEvent, type ProcessGroups } from '../pg/process-groups.js';
import type { MemberEvents, MemberSource } from './types.js';

/**
 * `members: 'participation'` (Sagents): the members are exactly the nodes
 * whose replica server joined the service's group in the membership pg
 * scope. Starting the service is joining; a node that goes down, or whose
 * server stops, leaves (pg prunes it). Sync traffic only ever goes to these
 * nodes.
 */
export class ParticipationMembers implements MemberSource {
  readonly mode = 'participation' as const;
  /** Member servers per node (normally one; two while a server restarts). */
  private readonly perNode = new Map<string, number>();
  private ref: Ref | null = null;
  private self = '';

  constructor(
    private readonly pg: ProcessGroups,
    readonly group: string,
  ) {}

  start(ctx: ProcessContext, events: MemberEvents): void {
    this.self = ctx.node.name;
    // nodedown directly too: the group's leave event comes later, through the pg scope.
    ctx.node.dist.monitorNodes(ctx.self, true);
    this.pg.join(this.group, ctx.self);
    const { ref, members } = this.pg.monitor(ctx.self, this.group);
    this.ref = ref;
    for (const p of members) this.joined(p.node, events);
  }

  handle(msg: unknown, events: MemberEvents): boolean {
    if (isNodeEvent(msg)) {
      if (msg.type === 'nodedown' && this.perNode.delete(msg.node)) events.down(msg.node, msg.reason ?? 'nodedown');
      return true;
    }
    if (!isPgEvent(msg) || this.ref === null || !msg.ref.equals(this.ref)) return false;
    for (const p of msg.pids) {
      if (msg.event === 'join') this.joined(p.node, events);
      else this.left(p.node, events);
    }
    return true;
  }

  nodes(): string[] {
    return [...this.perNode.keys()];
  }

  stop(ctx: ProcessContext): void {
    ctx.node.dist.monitorNodes(ctx.self, false);
    if (this.ref !== null && this.pg.running) {
      this.pg.demonitor(this.ref);
      this.pg.leave(this.group, ctx.self);
    }
    this.ref = null;
  }

  private joined(node: string, events: MemberEvents): void {
    if (node === this.self) return;
    const n = this.perNode.get(node) ?? 0;
    this.perNode.set(node, n + 1);
    if (n === 0) events.up(node);
  }

  private left(node: string, events: MemberEvents): void {
    const n = this.perNode.get(node);
    if (n === undefined) return;
    if (n > 1) {
      this.perNode.set(node, n - 1);
      return;
    }
    this.perNode.delete(node);
    events.down(node, 'left');
  }
}
