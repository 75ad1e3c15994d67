export * from './harness.js';
export { runBench, writeResults, formatTable, ratioOf, meetsTarget, fmt, defaultOut, repoRoot, type Result, type RunOptions } from './runner.js';
export { suites, loadSuite } from './suites/index.js';
