/**
 * How deep request params may nest. The mesh codec and JSON.stringify both
 * recurse, so a value a few thousand levels deep can be queued on one node
 * and then not be sent, answered or read back (a timeout, a 500, an agent
 * whose state cannot be returned). The gateway refuses such values with
 * -32602 before anything runs, far below what the codec handles.
 */
import { GatewayError, ErrorCode } from './errors.js';

/** Arrays and objects nested at most this deep in a request's `params`, the params object itself being level 1. */
export const MAX_PARAM_DEPTH = 64;

/** Throws -32602 naming the top-level param whose value nests deeper than `MAX_PARAM_DEPTH`. Iterative: any depth is safe to check. */
export function checkParamDepth(params: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(params)) {
    const stack: [unknown, number][] = [[value, 2]];
    while (stack.length > 0) {
      const [v, depth] = stack.pop()!;
      if (typeof v !== 'object' || v === null) continue;
      if (depth > MAX_PARAM_DEPTH) {
        throw new GatewayError(ErrorCode.InvalidParams, `invalid params: '${key}' nests deeper than ${MAX_PARAM_DEPTH} levels of arrays and objects`, { param: key, maxDepth: MAX_PARAM_DEPTH });
      }
      for (const child of Object.values(v)) stack.push([child, depth + 1]);
    }
  }
}
