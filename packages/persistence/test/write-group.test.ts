import { describe, expect, it } from 'vitest';
import { WriteGroup, settleInTurns } from '../src/internal/write-group.js';

describe('WriteGroup: writes from many servers in one commit', () => {
  it('groups every write added in the same turn into one commit', async () => {
    const commits: number[][] = [];
    const g = new WriteGroup<number>(
      (group) => {
        commits.push([...group]);
      },
      () => undefined,
    );
    for (let i = 0; i < 100; i++) g.add(i);
    await g.idle();
    expect(commits).toEqual([Array.from({ length: 100 }, (_, i) => i)]);
  });

  it('while a commit is in flight, later writes wait and form the next group', async () => {
    const commits: number[][] = [];
    let release!: () => void;
    const g = new WriteGroup<number>(
      (group) => {
        commits.push([...group]);
        if (commits.length === 1) return new Promise<void>((r) => (release = r));
        return undefined;
      },
      () => undefined,
    );
    g.add(1);
    await Promise.resolve();
    for (let i = 2; i <= 5; i++) g.add(i);
    await Promise.resolve();
    expect(commits).toEqual([[1]]);
    release();
    await g.idle();
    expect(commits).toEqual([[1], [2, 3, 4, 5]]);
  });

  it('caps a group at maxGroup writes', async () => {
    const sizes: number[] = [];
    const g = new WriteGroup<number>(
      (group) => {
        sizes.push(group.length);
      },
      () => undefined,
      1,
      4,
    );
    for (let i = 0; i < 10; i++) g.add(i);
    await g.idle();
    expect(sizes).toEqual([4, 4, 2]);
  });

  it('a commit that throws hands its group to fail (no write is left pending)', async () => {
    const failed: number[] = [];
    const g = new WriteGroup<number>(
      () => {
        throw new Error('bug');
      },
      (group) => failed.push(...group),
    );
    g.add(1);
    g.add(2);
    await g.idle();
    expect(failed).toEqual([1, 2]);
  });
});

describe('settleInTurns', () => {
  it('settles 256 writes per event-loop turn', async () => {
    const settled: number[] = [];
    const group = Array.from({ length: 600 }, (_, i) => i);
    settleInTurns(group, (w) => settled.push(w));
    expect(settled.length).toBe(256);
    await new Promise((r) => setImmediate(r));
    expect(settled.length).toBe(512);
    await new Promise((r) => setImmediate(r));
    expect(settled).toEqual(group);
  });
});
