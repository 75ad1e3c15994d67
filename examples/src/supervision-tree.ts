import { Node, GenServer, Supervisor, DynamicSupervisor, isStarted } from '@troupe/actor-core';

const node = new Node({ name: 'app@localhost' });

// A job: a GenServer that answers 'status' with its name.
const job: GenServer<string, 'status', never, string, unknown, string> = {
  init: (name) => ({ ok: name }),
  handleCall: (_req, _from, name) => ({ reply: `${name}: running`, state: name }),
};

// A static child (a supervisor of jobs) under a root supervisor: one_for_one,
// at most 3 restarts in 5 s before the root gives up.
const root = await Supervisor.start(node, { strategy: 'one_for_one', intensity: 3, period: 5 }, [
  { id: 'jobs', type: 'supervisor', start: (s) => DynamicSupervisor.startLink(s, { maxChildren: 100 }, { name: 'jobs' }) },
]);
if (!isStarted(root)) throw new Error('root supervisor did not start');

// Jobs are added at run time; 'transient': restarted only after a crash, not a normal exit.
const started = await DynamicSupervisor.startChild(node, 'jobs', {
  id: 'report',
  restart: 'transient',
  start: (s) => GenServer.startLink(s, job, 'report'),
});
if (started === 'ignore' || !('ok' in started) || started.ok === undefined) throw new Error('job did not start');
console.log(await GenServer.call(node, GenServer.ref<'status', never, string>(started.ok), 'status')); // 'report: running'
console.log(await DynamicSupervisor.countChildren(node, 'jobs')); // { specs: 1, active: 1, supervisors: 0, workers: 1 }

await Supervisor.stop(node, root.ok); // stops the tree, children first
node.shutdown();
