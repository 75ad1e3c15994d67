export { onLines } from './lines.js';
export { exited, killAfter, killOnExit, type ChildExit } from './exit.js';
export { PendingRequests, RequestTimeoutError, type RequestOptions } from './requests.js';
