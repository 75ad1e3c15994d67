/**
 * The queue rules on their own (agent-queue.ts), and the in-memory agent,
 * which changes its queue in place: what it has answered must not change
 * afterwards. One node on MemoryNetwork, so replies are the agent's own
 * objects, not decoded copies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryNetwork, Node, silentLogger } from '@troupe/actor-core';
import { startAgentServices, type AgentServices } from '../src/index.js';
import { admit, emptyData, QueueInPlace, withoutFirst, withTask, type EnqueueRequest } from '../src/agent-queue.js';

const limits = { maxQueue: 3, maxQueueBytes: 100 };
const req = (text: string): EnqueueRequest => ({ op: 'enqueue', action: 'echo', params: { text }, via: 'n@local', bytes: JSON.stringify({ text }).length });

describe('queue rules', () => {
  it('admit numbers the tasks after seq and refuses past maxQueue and maxQueueBytes; a queue in place keeps its byte total', () => {
    const q = new QueueInPlace(emptyData());
    for (const t of ['a', 'b', 'c']) {
      const r = q.admit('q', req(t), limits);
      expect(r.reply).toMatchObject({ ok: true, queueLength: q.data.queue.length + 1, task: { id: `q#${q.data.seq + 1}` } });
      q.push(r.task!, r.bytes);
    }
    expect(q.data.queue.map((t) => t.id)).toEqual(['q#1', 'q#2', 'q#3']);
    const full = q.admit('q', req('d'), limits);
    expect(full.task).toBeUndefined();
    expect(full.reply).toMatchObject({ ok: false, error: 'queue_full', queueLength: 3 });
    q.shift();
    expect(q.data).toMatchObject({ processed: 1, seq: 3, sizes: [12, 12] });
    // Bytes: 2 × 12 held; 80 more would pass 100, 70 would not: the total followed the shift.
    expect(q.admit('q', { ...req('x'), bytes: 80 }, limits).reply).toMatchObject({ ok: false, queueBytes: 24 });
    expect(q.admit('q', { ...req('x'), bytes: 76 }, limits).task).toBeDefined();
    // The same rule from the sizes themselves, and from a total the caller gives.
    expect(admit(q.data, 'q', { ...req('x'), bytes: 80 }, limits).reply).toMatchObject({ ok: false, queueBytes: 24 });
    expect(admit(q.data, 'q', { ...req('x'), bytes: 70 }, limits, 40).reply).toMatchObject({ ok: false, queueBytes: 40 });
    expect(q.admit('q', req('e'), limits).reply).toMatchObject({ ok: true, task: { id: 'q#4' } });
  });

  it('a snapshot does not change with the queue', () => {
    const q = new QueueInPlace(emptyData());
    const r = q.admit('q', req('a'), limits);
    q.push(r.task!, r.bytes);
    const snap = q.snapshot();
    q.shift();
    expect(snap).toMatchObject({ processed: 0, seq: 1, sizes: [12] });
    expect(snap.queue).toHaveLength(1);
  });

  it('withTask and withoutFirst leave the state they were given as it was (the durable agent stores the new one)', () => {
    const d = emptyData();
    const r = admit(d, 'q', req('a'), limits);
    const one = withTask(d, r.task!, r.bytes);
    expect(d).toEqual(emptyData());
    expect(one).toMatchObject({ seq: 1, processed: 0, sizes: [12] });
    const none = withoutFirst(one);
    expect(one.queue).toHaveLength(1);
    expect(none).toMatchObject({ queue: [], sizes: [], seq: 1, processed: 1 });
  });
});

describe('the in-memory agent', () => {
  let node: Node;
  let s: AgentServices;

  beforeAll(async () => {
    node = new Node({ name: 'q@local', logger: silentLogger });
    new MemoryNetwork().mesh(node);
    s = await startAgentServices(node, { logEvents: 'silent' });
  });

  afterAll(() => node?.shutdown());

  it('a state it answered does not change when more tasks are queued and processed', async () => {
    await s.startAgent('snap');
    await s.sendMessage('snap', 'echo', { text: 'one' });
    const before = await s.getAgentState('snap');
    expect(before.queue.map((t) => t.params)).toEqual([{ text: 'one' }]);
    await s.sendMessage('snap', 'echo', { text: 'two' });
    await s.processNext('snap');
    expect(before.queue.map((t) => t.params)).toEqual([{ text: 'one' }]);
    const after = await s.getAgentState('snap');
    expect(after).toMatchObject({ processed: 1 });
    expect(after.queue.map((t) => t.params)).toEqual([{ text: 'two' }]);
  });
});
