import { TroupeError } from '@troupe/actor-core';

/**
 * Errors of the WebSocket transport. Each has a stable `code` (README, "Error
 * codes"); the data to act on is on the error, not only in the message.
 */

/** A node name that is not `name@host` (letters, digits, `_`, `-`, `.`; host may hold `:` and `[]`). */
export class InvalidNodeNameError extends TroupeError {
  constructor(readonly nodeName: unknown) {
    super('TROUPE_ERR_NODE_NAME', `invalid node name ${JSON.stringify(nodeName)}: expected name@host (at most 255 chars of [A-Za-z0-9_.-], host may also hold ':[]')`);
  }
}

/** A URL `connect` cannot dial (not ws:// or wss://). */
export class InvalidUrlError extends TroupeError {
  constructor(readonly url: string) {
    super('TROUPE_ERR_URL', `cannot connect to ${JSON.stringify(url)}: expected ws://host:port or wss://host:port`);
  }
}

/** Handshake refusals that may pass by themselves; any other (bad cookie, version mismatch, ...) will not. */
export const TRANSIENT_HANDSHAKE_REASONS: ReadonlySet<string> = new Set(['setup_timeout', 'rate_limited', 'blocked', 'already_connected', 'simultaneous_connect']);

/** The handshake failed: `reason` is the close reason both sides log (`bad_cookie`, `version_mismatch`, ...). */
export class HandshakeError extends TroupeError {
  constructor(
    readonly url: string,
    readonly reason: string,
    detail: string,
  ) {
    super('TROUPE_ERR_HANDSHAKE', `handshake with ${url} failed (${reason}): ${detail}`);
  }
}

/** The connection could not be opened (refused, DNS, TLS) or closed before the handshake ended. */
export class ConnectError extends TroupeError {
  constructor(
    readonly url: string,
    detail: string,
  ) {
    super('TROUPE_ERR_CONNECT', `cannot connect to ${url}: ${detail}`);
  }
}

/** No connection to this node: sends to it fail closed, nothing dials it implicitly. */
export class NotConnectedError extends TroupeError {
  constructor(readonly nodeName: string) {
    super('TROUPE_ERR_NOT_CONNECTED', `node ${nodeName} is not connected (connect to it first; Troupe never dials implicitly)`);
  }
}

/**
 * The mesh listener could not open its port: `errno` is the system's code
 * (`EADDRINUSE`: another process holds the port; `EACCES`: a privileged port).
 */
export class ListenError extends TroupeError {
  constructor(
    readonly host: string,
    readonly port: number,
    readonly errno: string,
    detail: string,
  ) {
    super(
      errno === 'EADDRINUSE' ? 'TROUPE_ERR_ADDR_IN_USE' : 'TROUPE_ERR_LISTEN',
      errno === 'EADDRINUSE' ? `cannot listen on ${host}:${port}: the port is in use by another process` : `cannot listen on ${host}:${port}: ${detail}`,
    );
  }

  /** True if another process holds the port. */
  get inUse(): boolean {
    return this.errno === 'EADDRINUSE';
  }
}

/** The transport was closed. */
export class TransportClosedError extends TroupeError {
  constructor() {
    super('TROUPE_ERR_TRANSPORT_CLOSED', 'the transport is closed');
  }
}

/** No cookie could be found or created. */
export class CookieError extends TroupeError {
  constructor(detail: string) {
    super('TROUPE_ERR_COOKIE', detail);
  }
}
