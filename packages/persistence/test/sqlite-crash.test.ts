// Acknowledged means committed, across a real process death: a child
// persists to SQLite and is SIGKILLed mid-write; every reply it sent must be
// in the file (a process crash loses nothing acknowledged at any durability level).
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteStore } from '../src/stores/sqlite/index.js';

const CHILD = fileURLToPath(new URL('./support/crash-writer.ts', import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('SQLite: a SIGKILLed writer', () => {
  for (const durability of ['normal', 'full'] as const) {
    it(`loses no acknowledged persist (${durability})`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'troupe-crash-'));
      dirs.push(dir);
      const path = join(dir, 'crash.db');
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path, durability], { stdio: ['ignore', 'pipe', 'pipe'] });
      const acked = new Map<string, number>();
      let count = 0;
      let buf = '';
      let stderr = '';
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, sig) => resolve(sig)));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`child acknowledged only ${count} persists in 20 s: ${stderr}`)), 20_000);
        child.stdout!.on('data', (c: Buffer) => {
          buf += c.toString();
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const [, id, bal] = buf.slice(0, nl).split(' ');
            buf = buf.slice(nl + 1);
            acked.set(id!, Number(bal));
            if (++count === 2000) {
              clearTimeout(timer);
              child.kill('SIGKILL');
              resolve();
            }
          }
        });
        child.once('exit', () => {
          clearTimeout(timer);
          if (count < 2000) reject(new Error(`child exited early: ${stderr}`));
        });
      });
      expect(await exited).toBe('SIGKILL');
      const store = new SqliteStore({ path, writer: 'inline' });
      try {
        for (const [id, balance] of acked) {
          const highest = await store.journal.highestSeq(`account-${id}`);
          // Every acknowledged deposit is there; at most the one in flight beyond it.
          expect(highest).toBeGreaterThanOrEqual(balance);
          expect(highest).toBeLessThanOrEqual(balance + 1);
          const events = await store.journal.replay(`account-${id}`, 1, Infinity, Infinity);
          expect(events.map((e) => e.seq)).toEqual(Array.from({ length: highest }, (_, i) => i + 1));
        }
      } finally {
        await store.close();
      }
    });
  }
});
