/**
 * How a node process is started: its entry script and the `node` flags and
 * environment it needs, from TypeScript sources (tsx) or from the build.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** @internal */
export interface Launch {
  entry: string;
  execArgv: string[];
  env: Record<string, string>;
}

export function launchFor(runtime: 'auto' | 'src' | 'dist'): Launch {
  const here = import.meta.url;
  const fromTs = here.endsWith('.ts');
  const mode = runtime === 'auto' ? (fromTs ? 'src' : 'dist') : runtime;
  if (mode === 'src') {
    const srcDir = fromTs ? new URL('./', here) : new URL('../src/', here);
    const entry = fileURLToPath(new URL('node-main.ts', srcDir));
    const tsconfig = fileURLToPath(new URL('../tsconfig.src.json', srcDir));
    const tsx = createRequire(fileURLToPath(here)).resolve('tsx');
    // tsx maps @troupe/* to their TypeScript sources through tsconfig paths: the same code the test imports.
    return { entry, execArgv: ['--import', tsx], env: { TSX_TSCONFIG_PATH: tsconfig } };
  }
  const distDir = fromTs ? new URL('../dist/', here) : new URL('./', here);
  const entry = fileURLToPath(new URL('node-main.js', distDir));
  if (!existsSync(entry)) throw new Error(`${entry} does not exist: build the harness (npm run build) or use runtime 'src'`);
  return { entry, execArgv: [], env: {} };
}
