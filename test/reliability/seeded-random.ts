/**
 * A seeded PRNG for fault injection and fuzzing: every run prints its seed, and
 * `CB_TEST_SEED=<n> npx vitest run <file>` replays a failing run exactly.
 */

export interface SeededRandom {
  readonly seed: number;
  /** [0, 1) */
  next(): number;
  /** Integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
  /** Integer in [min, max]. */
  between(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(probability: number): boolean;
  bytes(length: number): Uint8Array;
}

/** mulberry32: tiny, fast and good enough to drive tests. */
export function seededRandom(seed: number): SeededRandom {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (maxExclusive: number): number => Math.floor(next() * maxExclusive);
  return {
    seed,
    next,
    int,
    between: (min, max) => min + int(max - min + 1),
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new RangeError('pick from an empty list');
      return items[int(items.length)] as T;
    },
    chance: (probability) => next() < probability,
    bytes: (length) => {
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i++) out[i] = int(256);
      return out;
    },
  };
}

/**
 * The seed for this run: $CB_TEST_SEED when set (to replay a failure), else a fresh one.
 * Printed either way, so a failing CI log says how to reproduce it.
 */
export function runSeed(suite: string): number {
  const fromEnv = process.env.CB_TEST_SEED;
  const seed =
    fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) >>> 0 : Math.floor(Math.random() * 2 ** 32);
  console.info(`[${suite}] seed ${seed} (replay with CB_TEST_SEED=${seed})`);
  return seed;
}
