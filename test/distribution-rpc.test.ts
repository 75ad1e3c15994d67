/**
 * rpc across real processes: a node dying mid-call gives
 * a node-down error, not a hang; multicall reports it among the bad nodes.
 */
import { describe, expect, it } from 'vitest';
import { useClusters } from './helpers.js';

const start = useClusters();

describe('rpc across processes', () => {
  it('rpc_SUITE call / multicall_dies: a callee node killed mid-call gives RpcNodeDownError; multicall lists it in badNodes', async () => {
    const c = await start({ nodes: ['caller', 'b', 'victim'] });
    const [caller, b, victim] = [c.node('caller'), c.node('b'), c.node('victim')];
    await Promise.all([b.run('exposeRpc'), victim.run('exposeRpc')]);
    expect(await caller.run('rpcCall', b.name, 'add', [2, 3], 5000)).toEqual({ ok: true, value: 5 });

    const [baseV, baseB] = [await victim.processCount(), await b.processCount()];
    const hanging = caller.run('rpcCall', victim.name, 'hang', [], 20_000);
    const multi = caller.run<{ values: unknown[]; badNodes: string[] }>('rpcMulticall', [b.name, victim.name], 'hang', [], 20_000);
    // Both requests have arrived once their RPC worker processes exist (one per request).
    await expectEventually(async () => (await victim.processCount()) >= baseV + 2 && (await b.processCount()) >= baseB + 1);
    await victim.kill();
    expect(await hanging).toEqual({ ok: false, error: 'RpcNodeDownError' }); // the node's death, not the 20 s timeout (RpcTimeoutError)
    await b.kill(); // b's `hang` never settles either: its death ends the multicall
    const r = await multi;
    expect(r.badNodes.sort()).toEqual([b.name, victim.name].sort());
  });
});

async function expectEventually(cond: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setImmediate(r));
  }
}
