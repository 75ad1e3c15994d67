import { it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { SignalCodec } from '../src/index.js';
it('x', () => {
  const c = new SignalCodec();
  const slow: [number, string][] = [];
  for (let i = 0; i < 3000; i++) {
    const b = randomBytes(1 + (i % 64));
    const t = performance.now(); c.decode(b); const d = performance.now() - t;
    if (d > 5) slow.push([d, b.subarray(0, 8).toString('hex')]);
  }
  console.log(slow.length, slow.slice(0, 10));
});
