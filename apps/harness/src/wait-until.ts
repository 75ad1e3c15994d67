import type { EventEmitter } from 'node:events';

/** Re-checks `probe` on every `change` of `em` until it returns a value; rejects after `timeoutMs`. */
export function waitUntil<T>(em: EventEmitter, probe: () => T | undefined, timeoutMs: number, what: () => string): Promise<T> {
  const first = probe();
  if (first !== undefined) return Promise.resolve(first);
  return new Promise<T>((resolve, reject) => {
    const check = (): void => {
      let v: T | undefined;
      try {
        v = probe();
      } catch (e) {
        done();
        reject(e as Error);
        return;
      }
      if (v === undefined) return;
      done();
      resolve(v);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`));
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      em.off('change', check);
    };
    em.on('change', check);
  });
}
