import { TroupeError, type Pid } from '@troupe/actor-core';

/** Only processes of this node can join a group or hold a name here (owner-authoritative writes). */
export class NoLocalError extends TroupeError {
  constructor(readonly pid: Pid, what: string) {
    super('TROUPE_ERR_NOLOCAL', `${what}: ${pid.toString()} is not a process of this node (only local processes can be added)`);
  }
}

/** The service's replica on this node has stopped (or never started). */
export class UnavailableError extends TroupeError {
  constructor(service: string, node: string) {
    super('TROUPE_ERR_UNAVAILABLE', `${service} is not running on ${node}`);
  }
}
