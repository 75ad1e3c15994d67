export { onLines } from './lines.js';
export { exited, killAfter, killOnExit, processExists, type ChildExit } from './exit.js';
export { PendingRequests, RequestTimeoutError, type RequestOptions } from './requests.js';
