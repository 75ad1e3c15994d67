import type { Dest, ExitReason, Pid, Ref } from '@troupe/actor-core';
import type { NodeHandle } from './node-handle.js';
import type { HarnessEvent } from './protocol.js';

/** A probe process on one node: link/monitor from it, read what it received from the node's events. */
export class Probe {
  constructor(
    readonly node: NodeHandle,
    readonly id: number,
    readonly pid: Pid,
  ) {}

  /** Monitors each target from the probe; resolves to the refs, in order. */
  monitor(...targets: (Pid | string | { name: string; node: string })[]): Promise<Ref[]> {
    return this.node.request<Ref[]>('probeMonitor', [this.id, targets]);
  }

  demonitor(ref: Ref): Promise<boolean> {
    return this.node.request<boolean>('probeDemonitor', [this.id, ref]);
  }

  link(...pids: Pid[]): Promise<void> {
    return this.node.request<void>('probeLink', [this.id, pids]);
  }

  unlink(pid: Pid): Promise<void> {
    return this.node.request<void>('probeUnlink', [this.id, pid]);
  }

  send(dest: Dest, msg: unknown): Promise<void> {
    return this.node.request<void>('probeSend', [this.id, dest, msg]);
  }

  exit(pid: Pid, reason: ExitReason): Promise<void> {
    return this.node.request<void>('probeExit', [this.id, pid, reason]);
  }

  /** DOWN messages this probe got (so far). */
  downs(since = 0): Extract<HarnessEvent, { kind: 'down' }>[] {
    return this.node.events.slice(since).filter((e): e is Extract<HarnessEvent, { kind: 'down' }> => e.kind === 'down' && e.probe === this.id);
  }

  /** EXIT messages this (trapping) probe got (so far). */
  exits(since = 0): Extract<HarnessEvent, { kind: 'exit' }>[] {
    return this.node.events.slice(since).filter((e): e is Extract<HarnessEvent, { kind: 'exit' }> => e.kind === 'exit' && e.probe === this.id);
  }

  messages(since = 0): unknown[] {
    return this.node.events.slice(since).filter((e) => e.kind === 'message' && e.probe === this.id).map((e) => (e as { msg: unknown }).msg);
  }

  nextDown(opts: { since?: number; timeoutMs?: number } = {}): Promise<Extract<HarnessEvent, { kind: 'down' }>> {
    return this.node.waitEvent((e): e is Extract<HarnessEvent, { kind: 'down' }> => e.kind === 'down' && e.probe === this.id, opts);
  }

  nextExit(opts: { since?: number; timeoutMs?: number } = {}): Promise<Extract<HarnessEvent, { kind: 'exit' }>> {
    return this.node.waitEvent((e): e is Extract<HarnessEvent, { kind: 'exit' }> => e.kind === 'exit' && e.probe === this.id, opts);
  }

  nextMessage(opts: { since?: number; timeoutMs?: number } = {}): Promise<unknown> {
    return this.node
      .waitEvent((e) => e.kind === 'message' && e.probe === this.id, opts)
      .then((e) => (e as { msg: unknown }).msg);
  }

  /** Waits until this probe has received `count` DOWN messages (since `since`). */
  async waitDowns(count: number, opts: { since?: number; timeoutMs?: number } = {}): Promise<Extract<HarnessEvent, { kind: 'down' }>[]> {
    const es = await this.node.waitEvents((e) => e.kind === 'down' && e.probe === this.id, count, opts);
    return es as Extract<HarnessEvent, { kind: 'down' }>[];
  }
}
