import { smallInt } from './conflict.js';

/**
 * A hybrid logical clock: wall time, plus a counter that orders events
 * within one millisecond and after observing a claim from a node whose
 * clock runs ahead. A claim made after seeing another claim is therefore
 * always "later", whatever the skew.
 */
export class Hlc {
  private wall = 0;
  private lc = 0;

  constructor(private readonly clock: () => number = Date.now) {}

  now(): [wall: number, logical: number] {
    const w = this.clock();
    if (w > this.wall) {
      this.wall = w;
      this.lc = 0;
    } else {
      this.lc++;
    }
    return [this.wall, this.lc];
  }

  observe(wall: number, logical: number): void {
    if (wall > this.wall || (wall === this.wall && logical > this.lc)) {
      this.wall = wall;
      this.lc = smallInt(logical);
    }
  }
}
