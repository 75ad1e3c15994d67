import type { ProcessContext } from '@troupe/actor-core';
import type { MemberEvents, MemberSource } from './types.js';

function isNodeEvent(m: unknown): m is { type: 'nodeup' | 'nodedown'; node: string; reason?: string } {
  if (typeof m !== 'object' || m === null) return false;
  const t = (m as { type?: unknown }).type;
  return (t === 'nodeup' || t === 'nodedown') && typeof (m as { node?: unknown }).node === 'string';
}

/** `members: 'auto'`: every connected node (pg's behaviour). */
export class AutoMembers implements MemberSource {
  readonly mode = 'auto' as const;
  private ctx: ProcessContext | null = null;

  start(ctx: ProcessContext, events: MemberEvents): void {
    this.ctx = ctx;
    ctx.node.dist.monitorNodes(ctx.self, true);
    for (const n of ctx.node.dist.nodes()) events.up(n);
  }

  handle(msg: unknown, events: MemberEvents): boolean {
    if (!isNodeEvent(msg)) return false;
    if (msg.type === 'nodeup') events.up(msg.node);
    else events.down(msg.node, msg.reason ?? 'nodedown');
    return true;
  }

  nodes(): string[] {
    return this.ctx === null ? [] : this.ctx.node.dist.nodes();
  }

  stop(ctx: ProcessContext): void {
    ctx.node.dist.monitorNodes(ctx.self, false);
  }
}

export { isNodeEvent };
