import { describe, expect, it } from 'vitest';
import { BadArgError, MAX_NODE_NAME_LENGTH, Node, isValidNodeName, silentLogger } from '../src/index.js';

describe('node names (one rule for nodes, transports and the CLI)', () => {
  it('accepts name@host with a hostname, an IPv4 address or a bracketed IPv6 literal', () => {
    for (const n of ['a@local', 'nonode@nohost', 'web-1.x_y@db.example.com', 'a@127.0.0.1', 'a@[::1]', 'a@[fe80::1:2]', 'a@[::ffff:10.0.0.1]']) {
      expect(isValidNodeName(n), n).toBe(true);
    }
  });

  it('refuses names without a host, with other characters, unbracketed colons, or too long', () => {
    const long = `${'x'.repeat(MAX_NODE_NAME_LENGTH)}@h`;
    for (const n of ['no-host', 'a@', '@h', 'a/b@h', 'a b@h', 'a@b@c', 'a@::1', 'a@host:4000', 'a@[::1', 'a@[zz]', long, '', 42, null]) {
      expect(isValidNodeName(n), String(n)).toBe(false);
    }
    expect(isValidNodeName('x'.repeat(MAX_NODE_NAME_LENGTH - 2) + '@h')).toBe(true);
  });

  it('a Node refuses an invalid name with BadArgError', () => {
    expect(() => new Node({ name: 'a@::1', logger: silentLogger })).toThrow(BadArgError);
    new Node({ name: 'a@[::1]', logger: silentLogger }).shutdown();
  });
});
