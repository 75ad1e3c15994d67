export * from './harness.js';
export {
  runBench,
  plan,
  UnknownTargetError,
  writeResults,
  formatTable,
  ratioOf,
  meetsTarget,
  fmt,
  defaultOut,
  repoRoot,
  NOISY_CORES,
  type Result,
  type RunOptions,
} from './runner.js';
export { suites, loadSuite } from './suites/index.js';
export { renderMarkdown, renderSvg, writeReport, currentMeta, type ReportMeta, type ReportFiles } from './report.js';
