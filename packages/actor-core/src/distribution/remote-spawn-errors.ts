import { TroupeError } from '../errors.js';

/** A remote spawn failed. `reason`: `noconnection`, `not_exposed`, `timeout`, `badarg` or `spawn_failed`. */
export class RemoteSpawnError extends TroupeError {
  constructor(
    code: string,
    message: string,
    readonly node: string,
    readonly behaviour: string,
    readonly reason: string,
  ) {
    super(code, message);
  }
}

/** The node is not connected, or went down before it replied. */
export class SpawnNodeDownError extends RemoteSpawnError {
  constructor(node: string, behaviour: string) {
    super('TROUPE_ERR_NODEDOWN', `cannot spawn '${behaviour}' on ${node}: node is not connected`, node, behaviour, 'noconnection');
  }
}

/** The node did not expose a behaviour under that name (remote spawn is allow-listed). */
export class NotExposedError extends RemoteSpawnError {
  constructor(node: string, behaviour: string) {
    super('TROUPE_ERR_NOT_EXPOSED', `node ${node} does not expose '${behaviour}' for remote spawn (see Distribution.expose)`, node, behaviour, 'not_exposed');
  }
}

export class SpawnTimeoutError extends RemoteSpawnError {
  constructor(node: string, behaviour: string, readonly timeoutMs: number) {
    super('TROUPE_ERR_SPAWN_TIMEOUT', `spawn of '${behaviour}' on ${node}: no reply within ${timeoutMs} ms`, node, behaviour, 'timeout');
  }
}

/** The remote factory threw, or returned something that cannot be spawned (`reason` `spawn_failed` / `badarg`). */
export class SpawnFailedError extends RemoteSpawnError {
  constructor(node: string, behaviour: string, reason: string, detail: string) {
    super('TROUPE_ERR_SPAWN_FAILED', `spawn of '${behaviour}' on ${node} failed: ${detail}`, node, behaviour, reason);
  }
}
