/** OTP restart intensity: more than `max` restarts within `periodMs` means give up. */
export class RestartIntensity {
  private readonly stamps: number[] = [];

  constructor(
    private readonly max: number,
    private readonly periodMs: number,
  ) {}

  /** Records a restart at `now`; true if that exceeds the intensity. */
  exceeded(now: number): boolean {
    this.stamps.push(now);
    while (this.stamps.length > 0 && this.stamps[0]! <= now - this.periodMs) this.stamps.shift();
    return this.stamps.length > this.max;
  }
}
