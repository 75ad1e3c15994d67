import { expect, it } from 'vitest';
import { Display } from '../src/cluster-cmd.js';

it('a terminal status block is redrawn from column 0: a ^C echoed at the cursor leaves nothing behind', () => {
  const out: string[] = [];
  const d = new Display('tty', (t) => void out.push(t));
  d.status(['status 12:00:00  2/2 nodes up', '  n1 up']);
  out.length = 0;
  d.say('SIGINT: stopping 2 node(s)...');
  // \r first: without it the erase starts after the echoed "^C" and the block's first line keeps "st".
  expect(out).toEqual([`\r\x1b[6A\x1b[J`, 'SIGINT: stopping 2 node(s)...\n']);
});

it('--json: events on stdout, every other line on stderr', () => {
  const out: string[] = [];
  const err: string[] = [];
  const d = new Display('json', (t) => void out.push(t), (t) => void err.push(t));
  d.say('starting');
  d.log('[n1] ready');
  d.status(['status ...']);
  d.event({ event: 'up', members: [] });
  expect(out).toEqual(['{"event":"up","members":[]}\n']);
  expect(err).toEqual(['starting\n', '[n1] ready\n']);
});
