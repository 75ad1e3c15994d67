import { describe, expect, it } from 'vitest';
import type { NodeStatus } from '../src/ipc.js';
import { renderStatus, type StatusRow } from '../src/status.js';

function row(name: string, health: NodeStatus['health']): StatusRow {
  const status: NodeStatus = { name, osPid: 1, state: 'up', http: 'http://127.0.0.1:4000', mesh: 'ws://127.0.0.1:5000', processes: 3, processed: 0, registry: 0, agents: 0, connected: [], uptimeMs: 1, health };
  return { name, osPid: 1, state: 'up', status, rate: null };
}

describe('troupe cluster status', () => {
  it('a node whose seeds fail shows its health in STATE, and its reasons under the table', () => {
    const lines = renderStatus([row('n1@h', { status: 'healthy', reasons: [] }), row('n2@h', { status: 'unreachable', reasons: ['ws://127.0.0.1:5000: refused (bad_cookie)'] })], new Date(0));
    expect(lines[2]).toMatch(/^\s+n1@h\s+up\s/);
    expect(lines[3]).toMatch(/^\s+n2@h\s+unreachable\s/);
    expect(lines[4]).toBe('  n2@h: ws://127.0.0.1:5000: refused (bad_cookie)');
    expect(lines).toHaveLength(5);
  });
});
