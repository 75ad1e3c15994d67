import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Node, GenServer, consoleLogger, isStarted, silentLogger, type GenServer as GS } from '@troupe/actor-core';
import { createPino, logFormat, nodeLogger, type CliLogLevel, type LogFormat } from '../src/log.js';

function capture(level: CliLogLevel, format: LogFormat): { lines: string[]; node: Node } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter((l) => l !== ''));
      done();
    },
  });
  const node = new Node({ name: 'log@127.0.0.1', logger: nodeLogger(createPino({ level, format, colorize: false, destination })) });
  return { lines, node };
}

/** A GenServer that throws on its first call: a crash report with an Error and its stack. */
async function crashOne(node: Node): Promise<void> {
  const bad: GS<null, 'boom', never, never> = {
    init: () => ({ ok: null }),
    handleCall: () => {
      throw new TypeError('kaboom');
    },
  };
  const s = await GenServer.start(node, bad, undefined, { name: 'bad' });
  if (!isStarted(s)) throw new Error('not started');
  await GenServer.call(node, 'bad', 'boom', 1000).catch(() => {});
  await new Promise<void>((resolve) => {
    const poll = (): void => (node.whereis('bad') === undefined ? resolve() : void setImmediate(poll));
    poll();
  });
}

describe('troupe node logging', () => {
  it('says which levels it writes (enabled), as consoleLogger and silentLogger do', () => {
    const info = nodeLogger(createPino({ level: 'info', format: 'json', colorize: false, destination: new Writable({ write: (_c, _e, done) => done() }) }));
    expect(['debug', 'info', 'warn', 'error'].map((l) => info.enabled?.(l as 'debug'))).toEqual([false, true, true, true]);
    expect(consoleLogger('warn').enabled?.('info')).toBe(false);
    expect(consoleLogger('warn').enabled?.('error')).toBe(true);
    expect(silentLogger.enabled?.('error')).toBe(false);
  });

  it('JSON: a crash is one info line with Name: message and no stack', async () => {
    const { lines, node } = capture('info', 'json');
    await crashOne(node);
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const crash = entries.filter((e) => e.msg === 'process crashed');
    expect(crash).toHaveLength(1);
    expect(crash[0]).toMatchObject({ level: 'info', reason: 'TypeError: kaboom' });
    expect(typeof crash[0]!.time).toBe('string'); // ISO time
    expect(lines.join('\n')).not.toContain('at handleCall');
    expect(entries.some((e) => e.level === 'debug')).toBe(false);
    node.shutdown();
  });

  it('at debug the stack follows as its own entry', async () => {
    const { lines, node } = capture('debug', 'json');
    await crashOne(node);
    const stack = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e.msg === 'process crashed: stack');
    expect(stack).toMatchObject({ level: 'debug' });
    expect(String(stack!.stack)).toMatch(/^TypeError: kaboom\n\s+at /);
    node.shutdown();
  });

  it('pretty: one line per entry, time, level and message, no pid or hostname', async () => {
    const { lines, node } = capture('info', 'pretty');
    await crashOne(node);
    const crash = lines.filter((l) => l.includes('process crashed'));
    expect(crash).toHaveLength(1);
    expect(crash[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: process crashed \{.*"reason":"TypeError: kaboom".*\}$/);
    expect(lines.some((l) => /"(pid|hostname)":\d/.test(l))).toBe(false);
    node.shutdown();
  });

  it('format: pretty on a terminal, JSON otherwise; TROUPE_LOG_FORMAT decides when set', () => {
    expect(logFormat({}, true)).toBe('pretty');
    expect(logFormat({}, false)).toBe('json');
    expect(logFormat({ TROUPE_LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(logFormat({ TROUPE_LOG_FORMAT: 'pretty' }, false)).toBe('pretty');
  });
});
