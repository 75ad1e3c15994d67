// The store test kit: what every PersistenceStore must do, as vitest suites.
// It covers what Akka's journal and snapshot TCKs check, plus what they do
// not: two writers of one id (exactly one wins) and "acknowledged means
// committed" (an append that resolved is visible to a fresh connection).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pid, Ref } from '@troupe/actor-core';
import { RevisionConflictError, SequenceConflictError, SerializationError } from '../errors.js';
import type { PersistenceStore } from '../store/store.js';

/** What the kit needs from a store's author. */
export interface StoreFixture {
  /** The store under test (shared by every case; each case uses ids of its own). */
  readonly store: PersistenceStore;
  /** A second, independent store over the same data (a new connection, a new file handle). */
  reopen(): Promise<PersistenceStore>;
  /** Releases what the fixture started (the stores the kit opened are closed by the kit). */
  teardown?(): Promise<void>;
}

let counter = 0;
/** An id unique to this run, so cases never see each other's data. */
function freshId(tag: string): string {
  return `tk-${tag}-${process.pid}-${Date.now().toString(36)}-${++counter}`;
}

function ev(event: unknown, version = 1): { event: unknown; version: number } {
  return { event, version };
}

/** Registers the whole kit as one `describe` block. */
export function storeTestKit(name: string, setup: () => Promise<StoreFixture>): void {
  describe(`store test kit: ${name}`, () => {
    let fx: StoreFixture;
    const opened: PersistenceStore[] = [];
    const reopen = async (): Promise<PersistenceStore> => {
      const s = await fx.reopen();
      opened.push(s);
      return s;
    };
    beforeAll(async () => {
      fx = await setup();
    });
    afterAll(async () => {
      for (const s of opened) await s.close();
      await fx?.store.close();
      await fx?.teardown?.();
    });

    describe('journal', () => {
      /** An id holding events 1..5 (payloads 'e1'..'e5'), each its own append. */
      async function fiveEvents(): Promise<string> {
        const id = freshId('five');
        for (let i = 1; i <= 5; i++) await fx.store.journal.append({ id, expectedSeq: i - 1, events: [ev(`e${i}`)] });
        return id;
      }
      const seqs = async (id: string, from: number, to: number, max: number): Promise<number[]> =>
        (await fx.store.journal.replay(id, from, to, max)).map((e) => e.seq);

      it('an unknown id has highest sequence number 0 and replays nothing', async () => {
        const id = freshId('unknown');
        expect(await fx.store.journal.highestSeq(id)).toBe(0);
        expect(await fx.store.journal.replay(id, 1, Infinity, 100)).toEqual([]);
      });

      it('replays every event in order with its payload and version', async () => {
        const id = await fiveEvents();
        const all = await fx.store.journal.replay(id, 1, Infinity, Infinity);
        expect(all.map((e) => [e.seq, e.event, e.version])).toEqual([1, 2, 3, 4, 5].map((i) => [i, `e${i}`, 1]));
        expect(all.every((e) => typeof e.writtenAt === 'number' && e.writtenAt > 0)).toBe(true);
        expect(await fx.store.journal.highestSeq(id)).toBe(5);
      });

      it('replays with a lower bound, an upper bound, a max count and their combinations', async () => {
        const id = await fiveEvents();
        expect(await seqs(id, 3, Infinity, Infinity)).toEqual([3, 4, 5]);
        expect(await seqs(id, 1, 3, Infinity)).toEqual([1, 2, 3]);
        expect(await seqs(id, 1, Infinity, 2)).toEqual([1, 2]);
        expect(await seqs(id, 2, 4, Infinity)).toEqual([2, 3, 4]);
        expect(await seqs(id, 2, 5, 2)).toEqual([2, 3]);
        expect(await seqs(id, 2, 3, 10)).toEqual([2, 3]);
        expect(await seqs(id, 6, Infinity, Infinity)).toEqual([]);
      });

      it('replays one event when from = to, and none when from > to or the count is 0', async () => {
        const id = await fiveEvents();
        expect(await seqs(id, 3, 3, Infinity)).toEqual([3]);
        expect(await seqs(id, 4, 3, Infinity)).toEqual([]);
        expect(await seqs(id, 1, Infinity, 0)).toEqual([]);
      });

      it('writes several events atomically, numbered after the expected sequence number', async () => {
        const id = freshId('atomic');
        await fx.store.journal.append({ id, expectedSeq: 0, events: [ev('a'), ev('b'), ev('c')] });
        await fx.store.journal.append({ id, expectedSeq: 3, events: [ev('d'), ev('e')] });
        const all = await fx.store.journal.replay(id, 1, Infinity, Infinity);
        expect(all.map((e) => [e.seq, e.event])).toEqual([
          [1, 'a'],
          [2, 'b'],
          [3, 'c'],
          [4, 'd'],
          [5, 'e'],
        ]);
        // A conflicting multi-event write leaves none of its events.
        await expect(fx.store.journal.append({ id, expectedSeq: 3, events: [ev('x'), ev('y'), ev('z')] })).rejects.toBeInstanceOf(SequenceConflictError);
        expect(await seqs(id, 1, Infinity, Infinity)).toEqual([1, 2, 3, 4, 5]);
        expect(await fx.store.journal.highestSeq(id)).toBe(5);
      });

      it('rejects a stale expected sequence number with a typed error and stores nothing of it', async () => {
        const id = freshId('stale');
        await fx.store.journal.append({ id, expectedSeq: 0, events: [ev(1)] });
        const err = await fx.store.journal.append({ id, expectedSeq: 0, events: [ev(2)] }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(SequenceConflictError);
        expect((err as SequenceConflictError).code).toBe('TROUPE_ERR_SEQ_CONFLICT');
        expect((err as SequenceConflictError).id).toBe(id);
        expect((err as SequenceConflictError).expectedSeq).toBe(0);
        // A writer ahead of the journal conflicts too (it would leave a gap).
        await expect(fx.store.journal.append({ id, expectedSeq: 5, events: [ev(3)] })).rejects.toBeInstanceOf(SequenceConflictError);
        expect((await fx.store.journal.replay(id, 1, Infinity, Infinity)).map((e) => e.event)).toEqual([1]);
      });

      it('deletes up to a sequence number; replay starts after it', async () => {
        const id = await fiveEvents();
        await fx.store.journal.deleteTo(id, 3);
        expect(await seqs(id, 1, Infinity, Infinity)).toEqual([4, 5]);
        expect(await fx.store.journal.highestSeq(id)).toBe(5);
      });

      it('never resets the highest sequence number by deletes, even of every event', async () => {
        const id = await fiveEvents();
        await fx.store.journal.deleteTo(id, 5);
        expect(await seqs(id, 1, Infinity, Infinity)).toEqual([]);
        expect(await fx.store.journal.highestSeq(id)).toBe(5);
        await fx.store.journal.deleteTo(id, 100);
        expect(await fx.store.journal.highestSeq(id)).toBe(5);
        // The numbering continues: a writer still expects 5 and numbering 1 again conflicts.
        await expect(fx.store.journal.append({ id, expectedSeq: 0, events: [ev('again')] })).rejects.toBeInstanceOf(SequenceConflictError);
        await fx.store.journal.append({ id, expectedSeq: 5, events: [ev('e6')] });
        expect(await seqs(id, 1, Infinity, Infinity)).toEqual([6]);
      });

      it('rejects a non-serializable event without failing the writes around it', async () => {
        const [a, b, c] = [freshId('ok-a'), freshId('bad'), freshId('ok-c')];
        const results = await Promise.allSettled([
          fx.store.journal.append({ id: a, expectedSeq: 0, events: [ev('fine')] }),
          fx.store.journal.append({ id: b, expectedSeq: 0, events: [ev('fine'), ev({ f: () => 1 })] }),
          fx.store.journal.append({ id: c, expectedSeq: 0, events: [ev('fine')] }),
        ]);
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(SerializationError);
        expect(await fx.store.journal.highestSeq(a)).toBe(1);
        expect(await fx.store.journal.highestSeq(b)).toBe(0);
        expect(await fx.store.journal.highestSeq(c)).toBe(1);
        await fx.store.journal.append({ id: b, expectedSeq: 0, events: [ev('fixed')] });
        expect(await fx.store.journal.highestSeq(b)).toBe(1);
      });

      it('keeps Pid, Ref, Date, bytes, bigint and the schema version of each event', async () => {
        const id = freshId('types');
        const value = { pid: new Pid('n@h', 7, 3), ref: new Ref('n@h', 9, 3), at: new Date(1234), bytes: new Uint8Array([1, 2, 3]), big: 2n ** 70n, nested: [{ x: null }] };
        await fx.store.journal.append({ id, expectedSeq: 0, events: [ev(value, 1), ev('v2', 2)] });
        const [e1, e2] = await fx.store.journal.replay(id, 1, Infinity, Infinity);
        const got = e1!.event as typeof value;
        expect(got.pid).toBeInstanceOf(Pid);
        expect(got.pid.equals(value.pid)).toBe(true);
        expect(got.ref).toBeInstanceOf(Ref);
        expect(got.ref.equals(value.ref)).toBe(true);
        expect(got.at).toEqual(value.at);
        expect(Array.from(got.bytes)).toEqual([1, 2, 3]);
        expect(got.big).toBe(value.big);
        expect(got.nested).toEqual([{ x: null }]);
        expect([e1!.version, e2!.version]).toEqual([1, 2]);
      });

      it('stores a processed command in the same atomic write as its events', async () => {
        const id = freshId('processed');
        await fx.store.journal.append({ id, expectedSeq: 0, events: [ev('a')], processed: { messageId: 'm1', reply: { ok: 1 } } });
        // A losing write records no processed id.
        await expect(fx.store.journal.append({ id, expectedSeq: 0, events: [ev('b')], processed: { messageId: 'm2', reply: 'lost' } })).rejects.toBeInstanceOf(
          SequenceConflictError,
        );
        // A command with no events still records its id, at the current sequence number.
        await fx.store.journal.append({ id, expectedSeq: 1, events: [], processed: { messageId: 'm3', reply: 'noop' } });
        const p = await fx.store.journal.processed(id, { count: 100, since: 0 });
        expect(p.map((x) => [x.messageId, x.reply, x.seq])).toEqual([
          ['m3', 'noop', 1],
          ['m1', { ok: 1 }, 1],
        ]);
        expect(await fx.store.journal.highestSeq(id)).toBe(1);
      });

      it('retains processed commands by count and by age, and prunes the rest', async () => {
        const id = freshId('retention');
        for (let i = 1; i <= 5; i++) await fx.store.journal.append({ id, expectedSeq: i - 1, events: [ev(i)], processed: { messageId: `m${i}`, reply: i } });
        const newest2 = await fx.store.journal.processed(id, { count: 2, since: 0 });
        expect(newest2.map((x) => x.messageId)).toEqual(['m5', 'm4']);
        expect(await fx.store.journal.processed(id, { count: 100, since: Date.now() + 60_000 })).toEqual([]);
        await fx.store.journal.pruneProcessed(id, { count: 3, since: 0 });
        expect((await fx.store.journal.processed(id, { count: 100, since: 0 })).map((x) => x.messageId)).toEqual(['m5', 'm4', 'm3']);
        await fx.store.journal.pruneProcessed(id, { count: 100, since: Date.now() + 60_000 });
        expect(await fx.store.journal.processed(id, { count: 100, since: 0 })).toEqual([]);
      });
    });

    describe('journal: concurrent writers', () => {
      it('two connections writing one id: exactly one wins each round, and the sequence has no gaps', async () => {
        const other = await reopen();
        const id = freshId('race2');
        let seq = 0;
        for (let round = 0; round < 30; round++) {
          const r = await Promise.allSettled([
            fx.store.journal.append({ id, expectedSeq: seq, events: [ev(`a${round}`), ev(`a${round}'`)] }),
            other.journal.append({ id, expectedSeq: seq, events: [ev(`b${round}`), ev(`b${round}'`)] }),
          ]);
          const won = r.filter((x) => x.status === 'fulfilled').length;
          expect(won).toBe(1);
          for (const x of r) if (x.status === 'rejected') expect(x.reason).toBeInstanceOf(SequenceConflictError);
          seq += 2;
        }
        const all = await other.journal.replay(id, 1, Infinity, Infinity);
        expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
        // Each round's two events come from the same writer (atomic writes never interleave).
        for (let i = 0; i < 60; i += 2) expect(String(all[i + 1]!.event)).toBe(`${String(all[i]!.event)}'`);
      });

      it('eight writers racing from their own expected numbers: every win extends the sequence, no gaps', async () => {
        const stores = [fx.store, await reopen(), await reopen(), await reopen()];
        const id = freshId('race8');
        const wins: string[] = [];
        await Promise.all(
          Array.from({ length: 8 }, async (_, w) => {
            const s = stores[w % stores.length]!;
            for (let k = 0; k < 10; k++) {
              for (;;) {
                const expectedSeq = await s.journal.highestSeq(id);
                try {
                  await s.journal.append({ id, expectedSeq, events: [ev(`w${w}k${k}`)] });
                  wins.push(`w${w}k${k}`);
                  break;
                } catch (e) {
                  expect(e).toBeInstanceOf(SequenceConflictError);
                }
              }
            }
          }),
        );
        const all = await fx.store.journal.replay(id, 1, Infinity, Infinity);
        expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
        expect(new Set(all.map((e) => e.event))).toEqual(new Set(wins));
      });
    });

    describe('journal: acknowledged means committed', () => {
      it('every append that resolved is visible to a fresh connection at once', async () => {
        const ids = Array.from({ length: 50 }, (_, i) => freshId(`ack${i}`));
        const acked: Promise<string>[] = ids.map((id, i) =>
          fx.store.journal.append({ id, expectedSeq: 0, events: [ev(i), ev(i + 0.5)], processed: { messageId: `m${i}`, reply: i } }).then(() => id),
        );
        const other = await reopen();
        for (const p of acked) {
          const id = await p;
          expect(await other.journal.highestSeq(id)).toBe(2);
          expect((await other.journal.replay(id, 1, Infinity, Infinity)).length).toBe(2);
          expect((await other.journal.processed(id, { count: 10, since: 0 })).length).toBe(1);
        }
      });
    });

    describe('snapshot store', () => {
      async function three(): Promise<string> {
        const id = freshId('snap');
        await fx.store.snapshots.save(id, { seq: 10, at: 1000, version: 1 }, { n: 10 });
        await fx.store.snapshots.save(id, { seq: 20, at: 2000, version: 1 }, { n: 20 });
        await fx.store.snapshots.save(id, { seq: 30, at: 3000, version: 2 }, { n: 30 });
        return id;
      }
      const latestSeq = async (id: string, c?: Parameters<PersistenceStore['snapshots']['latest']>[1]): Promise<number | undefined> =>
        (await fx.store.snapshots.latest(id, c))?.seq;

      it('has no snapshot for an unknown id', async () => {
        expect(await fx.store.snapshots.latest(freshId('none'))).toBeUndefined();
      });

      it('loads the latest snapshot with its metadata', async () => {
        const id = await three();
        expect(await fx.store.snapshots.latest(id)).toEqual({ seq: 30, at: 3000, version: 2, state: { n: 30 } });
      });

      it('selects the latest snapshot within sequence-number and time bounds', async () => {
        const id = await three();
        expect(await latestSeq(id, { maxSeq: 25 })).toBe(20);
        expect(await latestSeq(id, { maxSeq: 20 })).toBe(20);
        expect(await latestSeq(id, { maxAt: 1500 })).toBe(10);
        expect(await latestSeq(id, { maxSeq: 25, maxAt: 1500 })).toBe(10);
        expect(await latestSeq(id, { minSeq: 15, maxSeq: 25 })).toBe(20);
        expect(await latestSeq(id, { maxSeq: 5 })).toBeUndefined();
      });

      it('deletes one snapshot by sequence number', async () => {
        const id = await three();
        await fx.store.snapshots.delete(id, 30);
        expect(await latestSeq(id)).toBe(20);
        await fx.store.snapshots.delete(id, 25); // none there: a no-op
        expect(await latestSeq(id)).toBe(20);
      });

      it('deletes snapshots matching criteria', async () => {
        const id = await three();
        await fx.store.snapshots.deleteMatching(id, { maxSeq: 20 });
        expect(await latestSeq(id, { maxSeq: 25 })).toBeUndefined();
        expect(await latestSeq(id)).toBe(30);
        const id2 = await three();
        await fx.store.snapshots.deleteMatching(id2, { minAt: 1500 });
        expect(await latestSeq(id2)).toBe(10);
        await fx.store.snapshots.deleteMatching(id2, {});
        expect(await latestSeq(id2)).toBeUndefined();
      });

      it('overwrites a snapshot saved again at the same sequence number', async () => {
        const id = await three();
        await fx.store.snapshots.save(id, { seq: 30, at: 4000, version: 3 }, { n: 'new' });
        expect(await fx.store.snapshots.latest(id)).toEqual({ seq: 30, at: 4000, version: 3, state: { n: 'new' } });
      });

      it('stores a 10 kB snapshot', async () => {
        const id = freshId('big');
        const bytes = new Uint8Array(10_240).map((_, i) => i & 255);
        const text = 'x'.repeat(10_240);
        await fx.store.snapshots.save(id, { seq: 1, at: 1, version: 1 }, { bytes, text });
        const got = (await fx.store.snapshots.latest(id))!.state as { bytes: Uint8Array; text: string };
        expect(Array.from(got.bytes)).toEqual(Array.from(bytes));
        expect(got.text).toBe(text);
      });

      it('rejects a non-serializable snapshot and keeps the previous one', async () => {
        const id = await three();
        await expect(fx.store.snapshots.save(id, { seq: 40, at: 4000, version: 1 }, { s: Symbol('no') })).rejects.toBeInstanceOf(SerializationError);
        expect(await latestSeq(id)).toBe(30);
      });
    });

    describe('durable-state store', () => {
      it('has no state for an unknown id', async () => {
        expect(await fx.store.states.get(freshId('none'))).toBeUndefined();
      });

      it('creates at revision 1 and counts revisions up', async () => {
        const id = freshId('state');
        expect(await fx.store.states.upsert(id, 0, { n: 1 }, 1)).toBe(1);
        expect(await fx.store.states.upsert(id, 1, { n: 2 }, 2)).toBe(2);
        expect(await fx.store.states.get(id)).toEqual({ revision: 2, state: { n: 2 }, version: 2 });
      });

      it('rejects a stale revision with a typed error and keeps the stored state', async () => {
        const id = freshId('cas');
        await fx.store.states.upsert(id, 0, 'first', 1);
        const err = await fx.store.states.upsert(id, 0, 'second create', 1).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(RevisionConflictError);
        expect((err as RevisionConflictError).code).toBe('TROUPE_ERR_REVISION_CONFLICT');
        await fx.store.states.upsert(id, 1, 'v2', 1);
        await expect(fx.store.states.upsert(id, 1, 'stale', 1)).rejects.toBeInstanceOf(RevisionConflictError);
        await expect(fx.store.states.upsert(id, 7, 'ahead', 1)).rejects.toBeInstanceOf(RevisionConflictError);
        expect(await fx.store.states.get(id)).toEqual({ revision: 2, state: 'v2', version: 1 });
      });

      it('two connections writing one id: exactly one wins each round', async () => {
        const other = await reopen();
        const id = freshId('staterace');
        let rev = 0;
        for (let round = 0; round < 30; round++) {
          const r = await Promise.allSettled([fx.store.states.upsert(id, rev, `a${round}`, 1), other.states.upsert(id, rev, `b${round}`, 1)]);
          expect(r.filter((x) => x.status === 'fulfilled').length).toBe(1);
          for (const x of r) if (x.status === 'rejected') expect(x.reason).toBeInstanceOf(RevisionConflictError);
          rev++;
        }
        expect((await other.states.get(id))!.revision).toBe(30);
      });

      it('deletes with compare-and-set; the next write creates again', async () => {
        const id = freshId('del');
        await fx.store.states.upsert(id, 0, 1, 1);
        await expect(fx.store.states.delete(id, 0)).rejects.toBeInstanceOf(RevisionConflictError);
        await fx.store.states.delete(id, 1);
        expect(await fx.store.states.get(id)).toBeUndefined();
        expect(await fx.store.states.upsert(id, 0, 2, 1)).toBe(1);
      });

      it('rejects a non-serializable state and stores nothing', async () => {
        const id = freshId('badstate');
        await expect(fx.store.states.upsert(id, 0, { f: () => 0 }, 1)).rejects.toBeInstanceOf(SerializationError);
        expect(await fx.store.states.get(id)).toBeUndefined();
      });

      it('an acknowledged write is visible to a fresh connection at once', async () => {
        const id = freshId('stateack');
        await fx.store.states.upsert(id, 0, { big: 'y'.repeat(1000) }, 1);
        const other = await reopen();
        expect((await other.states.get(id))?.revision).toBe(1);
      });
    });
  });
}
