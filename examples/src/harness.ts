import { strict as assert } from 'node:assert';
import { startCluster, stopAllClusters } from '@troupe/harness';

// Two real node processes (a@127.0.0.1, b@127.0.0.1) on ephemeral ports, mesh formed.
const c = await startCluster({ nodes: ['a', 'b'], transport: { tickMs: 250, tickTimeoutMs: 1000 } });
try {
  const [a, b] = [c.node('a'), c.node('b')];
  const target = await b.spawn('idle'); // a real Pid, usable here
  const probe = await a.probe(); // reports what it receives as events
  await probe.monitor(target);
  const mark = a.mark();
  await b.kill(); // SIGKILL
  const down = await a.waitNodeDown(b.name, { since: mark });
  assert.equal(down.reason, 'connection_closed');
  const dn = await probe.nextDown({ since: mark });
  assert.equal(dn.reason, 'noconnection'); // a remote monitor fires noconnection
  console.log('nodedown', down.reason, '· DOWN', dn.reason); // nodedown connection_closed · DOWN noconnection
} finally {
  await stopAllClusters(); // every process gone, also after a failure
}
