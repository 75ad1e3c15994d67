import { describe, expect, it } from 'vitest';
import { testNode, until } from './helpers.js';
import type { ProcessContext } from '../src/index.js';

describe('regressions', () => {
  it('spawnLink from a process killed while it awaited starts nothing (a dead process does nothing)', async () => {
    const node = testNode();
    let parentCtx: ProcessContext | undefined;
    let resume!: () => void;
    const gate = new Promise<void>((r) => (resume = r));
    const parent = node.spawn(async (ctx) => {
      parentCtx = ctx;
      await gate; // killed while awaiting this
    });
    await until(() => parentCtx !== undefined);
    node.exit(parent, 'kill');
    expect(node.isAlive(parent)).toBe(false);
    const exits: unknown[] = [];
    node.events.on('exit', (e) => exits.push(e.reason));
    const before = node.processCount;
    const child = parentCtx!.spawnLink({ handle() {} });
    resume();
    expect(node.isAlive(child)).toBe(false);
    expect(node.processCount).toBe(before);
    expect(exits).toEqual([]);
  });

  it('ctx.signal read for the first time after the process died is already aborted', async () => {
    const node = testNode();
    let ctxRef: ProcessContext | undefined;
    const pid = node.spawn(async (ctx) => {
      ctxRef = ctx;
      await new Promise(() => {});
    });
    await until(() => ctxRef !== undefined);
    node.exit(pid, 'kill');
    expect(ctxRef!.signal.aborted).toBe(true);
    expect(ctxRef!.signal.reason).toBe('killed');
  });
});

describe('regressions: operations of a dead process', () => {
  it('link from a killed process still running has no effect: the target lives', async () => {
    const node = testNode();
    let ctxRef: ProcessContext | undefined;
    const pid = node.spawn(async (ctx) => {
      ctxRef = ctx;
      await new Promise(() => {});
    });
    await until(() => ctxRef !== undefined);
    const other = node.spawn({ handle() {} });
    node.exit(pid, 'kill');
    ctxRef!.link(other);
    expect(node.isAlive(other)).toBe(true);
    expect(node.processInfo(other)?.links).toEqual([]);
  });

  it('monitor from a dead process leaves nothing on the target', async () => {
    const node = testNode();
    let ctxRef: ProcessContext | undefined;
    const pid = node.spawn(async (ctx) => {
      ctxRef = ctx;
      await new Promise(() => {});
    });
    await until(() => ctxRef !== undefined);
    const other = node.spawn({ handle() {} });
    node.exit(pid, 'kill');
    ctxRef!.monitor(other);
    expect(node.processInfo(other)?.monitoredBy).toEqual([]);
  });

  it('sendAfter rejects an infinite delay', () => {
    const node = testNode();
    expect(() => node.sendAfter(Infinity, node.external, 'x')).toThrow(/finite/);
  });
});
