/** The gateway's request deadlines on one timer, on a fake clock. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RequestDeadlines } from '../src/request-deadlines.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('RequestDeadlines', () => {
  it('each deadline expires ms after its start, in order; cancelled ones never; no timer once none is left', () => {
    const d = new RequestDeadlines(100);
    const expired: string[] = [];
    d.start(() => expired.push('a'));
    vi.advanceTimersByTime(30);
    const b = d.start(() => expired.push('b'));
    vi.advanceTimersByTime(30);
    d.start(() => expired.push('c'));
    d.cancel(b);
    expect(vi.getTimerCount()).toBe(1); // one timer for all three
    vi.advanceTimersByTime(39);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1); // 100: a
    expect(expired).toEqual(['a']);
    vi.advanceTimersByTime(59);
    expect(expired).toEqual(['a']); // b (130) was cancelled; c is due at 160
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(['a', 'c']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a deadline past what setTimeout takes (2^31-1 ms) waits for it, re-armed on the way', () => {
    const d = new RequestDeadlines(2 ** 32);
    let expired = false;
    d.start(() => (expired = true));
    vi.advanceTimersByTime(2 ** 31);
    expect(expired).toBe(false);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(2 ** 31);
    expect(expired).toBe(true);
  });

  it('a deadline started from an expiry, and stop() dropping all', () => {
    const d = new RequestDeadlines(50);
    const expired: number[] = [];
    d.start(() => {
      expired.push(performance.now());
      d.start(() => expired.push(performance.now()));
    });
    vi.advanceTimersByTime(100);
    expect(expired).toEqual([50, 100]);
    d.start(() => expired.push(-1));
    d.stop();
    vi.advanceTimersByTime(100);
    expect(expired).toEqual([50, 100]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
