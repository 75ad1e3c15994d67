import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DynamicSupervisor, GenServer, NoProcError, Supervisor, isStarted, type GenServer as GS } from '../src/index.js';
import { testNode } from './helpers.js';

const idle: GS<null, unknown, unknown, unknown> = { init: () => ({ ok: null }), handleCall: () => ({ reply: null, state: null }) };

describe('library objects under util.inspect (console.log)', () => {
  it('a Pid prints as <node.id.creation>, a Ref as #Ref<...>, also inside a start result', async () => {
    const node = testNode();
    const pid = node.spawn(async (ctx) => void (await ctx.receive()));
    expect(inspect(pid)).toBe(pid.toString());
    expect(inspect(pid)).toMatch(/^<[^>]+\.\d+\.\d+>$/);
    const ref = node.makeRef();
    expect(inspect(ref)).toBe(ref.toString());
    const sup = await DynamicSupervisor.start(node);
    expect(isStarted(sup)).toBe(true);
    const started = await DynamicSupervisor.startChild(node, (sup as { ok: typeof pid }).ok, { start: (ctx) => GenServer.startLink(ctx, idle, null) });
    // Was ~35 lines of process internals.
    expect(inspect(started)).toMatch(/^\{ ok: <[^>]+> \}$/);
    node.shutdown();
  });

  it('a Node prints its name and size in one line', () => {
    const node = testNode();
    node.spawn(async (ctx) => void (await ctx.receive()));
    expect(inspect(node)).toBe(`Node<${node.name} creation=${node.creation} processes=1>`);
    expect(inspect({ node })).toBe(`{ node: Node<${node.name} creation=${node.creation} processes=1> }`);
    node.shutdown();
  });

  it("a supervisor's children print in a few lines", async () => {
    const node = testNode();
    const sup = await Supervisor.start(node, { strategy: 'one_for_all' }, [{ id: 'w', start: (ctx) => GenServer.startLink(ctx, idle, null) }]);
    expect(isStarted(sup)).toBe(true);
    const children = await Supervisor.whichChildren(node, (sup as { ok: Parameters<typeof Supervisor.whichChildren>[1] }).ok);
    const text = inspect(children);
    expect(text).toMatch(/pid: <[^>]+>/);
    expect(text.split('\n').length).toBeLessThan(10);
    node.shutdown();
  });

  it('an error prints its stack and code, not its fields', async () => {
    const node = testNode();
    const e = await GenServer.call(node, 'nobody', 'q').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NoProcError);
    const text = inspect(e);
    expect(text.startsWith("NoProcError: no process 'nobody'\n")).toBe(true);
    expect(text.endsWith("{ code: 'TROUPE_ERR_NOPROC' }")).toBe(true);
    expect(text.split('\n').length).toBeLessThan(20);
    node.shutdown();
  });
});
