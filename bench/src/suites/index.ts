import type { SuiteModule } from '../harness.js';

/**
 * Every suite by name. A suite is a module exporting `cases`, `baseline` and
 * `metrics`; loaded lazily so a child imports only the suite it runs.
 */
export const suites: Record<string, () => Promise<SuiteModule>> = {
  local: () => import('./local.js'),
  remote: () => import('./remote.js'),
  registry: () => import('./registry.js'),
  persistence: () => import('./persistence.js'),
  gateway: () => import('./gateway.js'),
  scale: () => import('./scale.js'),
  cluster: () => import('./cluster.js'),
};

export async function loadSuite(name: string): Promise<SuiteModule> {
  const load = suites[name];
  if (load === undefined) throw new Error(`unknown suite '${name}' (known: ${Object.keys(suites).join(', ')})`);
  return load();
}
