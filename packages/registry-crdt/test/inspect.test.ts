import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { GenServer, NoProcError, type Node } from '@troupe/actor-core';
import { DistributedSupervisor, PubSub, Registry } from '../src/index.js';
import { cluster, shutdownAll } from './helpers.js';

let nodes: Node[] = [];
afterEach(() => shutdownAll(nodes));

describe('registry-crdt objects under util.inspect', () => {
  it('Registry, DistributedSupervisor and PubSub print in one line', async () => {
    const c = cluster(['a']);
    nodes = c.nodes;
    const a = c.nodes[0]!;
    const reg = await Registry.start(a, { name: 'agents', discoveryMs: 50 });
    expect(inspect(reg)).toBe('Registry<agents on a@mem, 0 names>');
    const sup = await DistributedSupervisor.start(a, { name: 'sup', discoveryMs: 50 });
    expect(inspect(sup)).toBe('DistributedSupervisor<sup on a@mem, 0 local children>');
    const ps = await PubSub.start(a, { name: 'events', discoveryMs: 50 });
    expect(inspect(ps)).toBe('PubSub<events on a@mem, 0 topics>');
  });

  it('a NoProcError for a { via: registry } name prints a few lines (was ~650)', async () => {
    const c = cluster(['a']);
    nodes = c.nodes;
    const reg = await Registry.start(c.nodes[0]!, { name: 'agents', discoveryMs: 50 });
    const e = await GenServer.call(c.nodes[0]!, { via: reg, name: 'ghost' }, 'q').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NoProcError);
    const text = inspect(e);
    expect(text.split('\n').length).toBeLessThan(20);
    expect(text).toContain("{ code: 'TROUPE_ERR_NOPROC' }");
    expect(inspect({ via: reg, name: 'ghost' })).toBe("{ via: Registry<agents on a@mem, 0 names>, name: 'ghost' }");
  });
});
