/**
 * differing_cookies (erl_distribution_SUITE): a node with another cookie
 * cannot join; the cluster logs the rejected attempt and stays up (as Erlang's distribution does).
 */
import { describe, expect, it } from 'vitest';
import { useClusters } from './helpers.js';

const start = useClusters();

describe('cookie', () => {
  it('erl_distribution_SUITE differing_cookies: a node with a wrong cookie cannot join; the cluster logs and stays up', async () => {
    const c = await start({ nodes: ['a', 'b'] });
    const [a, b] = [c.node('a'), c.node('b')];
    await b.spawn('echo', { name: 'echo' });
    const intruder = await c.addNode('intruder', { cookie: 'not-the-cluster-cookie', join: false });
    const mark = a.mark();
    // Dialling in: the acceptor (a) rejects the proof.
    await expect(intruder.connect(a.url)).rejects.toMatchObject({ name: 'HandshakeError' });
    const line = await a.waitEvent((e) => e.kind === 'log' && e.level === 'warn' && /handshake failed/.test(e.msg), { since: mark });
    expect(line).toMatchObject({ data: { reason: 'bad_cookie', role: 'acceptor' } });
    // Dialling out to it: the cluster node refuses to go on (the intruder cannot prove the cookie).
    await expect(b.connect(intruder.url)).rejects.toMatchObject({ name: 'HandshakeError' });
    expect(await intruder.nodes('connected')).toEqual([]);
    expect(await a.nodes('connected')).toEqual([b.name]);
    expect(a.events.slice(mark).some((e) => e.kind === 'nodeup' || e.kind === 'nodedown')).toBe(false);
    // The cluster keeps serving.
    expect(await a.call({ name: 'echo', node: b.name }, 'still up', 2000)).toBe('still up');
  });
});
