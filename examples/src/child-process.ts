import { spawn } from 'node:child_process';
import { exited, killOnExit, onLines, PendingRequests } from '@troupe/child-process';

// The worker: a child that prints a line and answers each IPC request.
const worker = `
  console.log('worker up');
  process.on('message', (m) => process.send({ id: m.id, value: 'status of ' + m.q + ': ok' }));
  process.on('disconnect', () => process.exit(0));
`;
const child = spawn(process.execPath, ['-e', worker], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
killOnExit(child); // never outlives this process
onLines(child.stdout!, (line) => console.log(`[worker] ${line}`));

const replies = new PendingRequests<string>();
child.on('message', (m: { id: number; value: string }) => replies.resolve(m.id, m.value));
child.once('exit', () => replies.rejectAll(() => new Error('worker exited')));
console.log(await replies.request({ send: (id) => child.send({ id, q: 'disk' }), timeoutMs: 1000 })); // 'status of disk: ok'

child.disconnect(); // the worker exits when its parent hangs up
console.log(await exited(child)); // { code: 0, signal: null }
