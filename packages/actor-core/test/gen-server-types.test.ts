// Typed server references: the compiler checks requests and infers replies.
// Checked by: npx tsc --noEmit --strict --module nodenext --moduleResolution nodenext --skipLibCheck --target es2022 test/gen-server*.test.ts
import { describe, expect, it } from 'vitest';
import { testNode } from './helpers.js';
import { GenServer, isStarted, type Pid, type ServerRef } from '../src/index.js';

type CounterCall = { op: 'get' } | { op: 'add'; n: number };
type CounterCast = { op: 'reset' };

const counter: GenServer<number, CounterCall, CounterCast, number, never, number> = {
  init: (start) => ({ ok: start }),
  handleCall(req, _from, n) {
    if (req.op === 'add') return { reply: n + req.n, state: n + req.n };
    return { reply: n, state: n };
  },
  handleCast: (_req, _n) => ({ noreply: 0 }),
};

describe('GenServer typed refs', () => {
  it('spec — start returns a ServerRef whose call checks the request and infers the reply', async () => {
    const node = testNode();
    const r = await GenServer.start(node, counter, 5);
    if (!isStarted(r)) throw new Error('not started');
    const ref: ServerRef<CounterCall, CounterCast, number> = r.ok;
    const sum: number = await GenServer.call(node, ref, { op: 'add', n: 2 });
    expect(sum).toBe(7);
    // Compile-time only (never run): each line below must be a type error.
    const typeErrors = (): void => {
      // @ts-expect-error — not a request this server accepts
      void GenServer.call(node, ref, { op: 'mul', n: 2 });
      // @ts-expect-error — a cast request is not a call request
      void GenServer.call(node, ref, { op: 'reset' });
      // @ts-expect-error — nor the reverse
      GenServer.cast(node, ref, { op: 'get' });
      // @ts-expect-error — the reply is a number
      const s: Promise<string> = GenServer.call(node, ref, { op: 'get' });
      void s;
    };
    void typeErrors;
    GenServer.cast(node, ref, { op: 'reset' });
    // a plain pid (or a name) stays untyped
    const plain: Pid = ref;
    const any: unknown = await GenServer.call(node, plain, { op: 'get' });
    expect(any).toBe(0);
    expect(await GenServer.call<number>(node, plain, { op: 'get' })).toBe(0);
    const again: number = await GenServer.call(node, GenServer.ref<CounterCall, CounterCast, number>(plain), { op: 'add', n: 1 });
    expect(again).toBe(1);
    await GenServer.stop(node, ref);
  });
});
