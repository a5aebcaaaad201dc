/**
 * How long the oldest request still in flight has been running, at most: in-flight requests are
 * counted per generation they started in (the last GENERATIONS of them; `tick()` starts the next
 * one), and as "older" beyond. O(1) per request with no allocation.
 */
const GENERATIONS = 16;

export class InFlightAges {
  private generation = 0;
  private readonly counts = new Int32Array(GENERATIONS);
  /** When each generation in the window started (performance.now()). */
  private readonly since = new Float64Array(GENERATIONS).fill(performance.now());
  private older = 0;

  /** A request starts; returns its generation, for done(). */
  started(): number {
    this.counts[this.generation % GENERATIONS]++;
    return this.generation;
  }

  done(generation: number): void {
    if (this.generation - generation < GENERATIONS) this.counts[generation % GENERATIONS]--;
    else this.older--;
  }

  tick(now = performance.now()): void {
    const slot = ++this.generation % GENERATIONS;
    this.older += this.counts[slot]; // the generation GENERATIONS ago leaves the window
    this.counts[slot] = 0;
    this.since[slot] = now;
  }

  /** An upper bound on the oldest in-flight request's age in ms: 0 when none is in flight, Infinity past the window. */
  oldestMs(now = performance.now()): number {
    if (this.older > 0) return Infinity;
    for (let age = GENERATIONS - 1; age >= 0; age--) {
      const slot = (this.generation - age) % GENERATIONS;
      if (this.counts[slot] > 0) return now - this.since[slot];
    }
    return 0;
  }
}
