import { hash32 } from '../crdt/hash.js';

/**
 * When a node's anti-entropy rounds fall, and which of them go to every peer.
 *
 * Rounds are instants of the wall clock: the multiples of the period shifted
 * by a phase that a hash of the node's name picks. Every replica on one node
 * (Registry, DistributedSupervisor, PubSub, process groups) therefore runs
 * its round at the same instant: their HELLOs to a peer leave in one loop
 * turn, so the transport puts them in one frame, and the node wakes once for
 * all of them; the peers' answers come back together. With a period of 2 s
 * or more the phase is a whole second, so rounds fall on instants at which
 * the node's liveness checks wake it anyway (the transport checks at whole
 * multiples of its tick interval, 1 s by default). Nodes' phases differ, so
 * a cluster is not in lockstep: its rounds are spread over the period's
 * seconds, and its full rounds (every `fullEvery`-th, at a second phase per
 * node) over the seconds of the full period.
 */
export class RoundClock {
  private readonly phaseMs: number;
  private readonly fullPhase: number;
  /** The wall-clock instant of the armed round (0: none yet). */
  private at = 0;

  constructor(
    nodeName: string,
    private readonly periodMs: number,
    private readonly fullEvery: number,
  ) {
    const h = hash32(nodeName);
    this.phaseMs = periodMs >= 2000 ? (h % Math.floor(periodMs / 1000)) * 1000 : h % periodMs;
    this.fullPhase = hash32(`${nodeName}\u0000full`) % fullEvery;
  }

  /**
   * ms from `now` (wall clock) to the next round, which it arms: never the
   * armed one again, and at most 1.5 periods away whatever the clock does.
   */
  next(now: number): number {
    // A timer may fire a ms before its instant by the wall clock: count from the armed instant
    // then, so the same round is not armed twice. Further before it, the clock was set back:
    // count from now, or rounds would stop for as long as the clock went back.
    const from = now < this.at && this.at - now < this.periodMs / 2 ? this.at : now;
    const into = (((from - this.phaseMs) % this.periodMs) + this.periodMs) % this.periodMs;
    this.at = from + this.periodMs - into;
    return Math.max(1, Math.ceil(this.at - now));
  }

  /** Whether the armed round goes to every peer. */
  isFull(): boolean {
    const round = Math.round((this.at - this.phaseMs) / this.periodMs);
    return (round + this.fullPhase) % this.fullEvery === 0;
  }
}
