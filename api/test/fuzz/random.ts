/** A seeded generator (mulberry32): the same seed gives the same requests, so a failure replays. */
export interface Random {
  /** A float in [0, 1). */
  next(): number
  /** An integer in [0, n). */
  int(n: number): number
  pick<T>(items: readonly T[]): T
  chance(p: number): boolean
}

export function createRandom(seed: number): Random {
  let state = seed >>> 0
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number) => Math.floor(next() * n)
  return {
    next,
    int,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new Error("pick from an empty list")
      return items[int(items.length)] as T
    },
    chance: (p) => next() < p,
  }
}

/** The seed of this run: `HELMR_FUZZ_SEED` when given (to replay a failure), else a fresh one. */
export function fuzzSeed(): number {
  const given = process.env.HELMR_FUZZ_SEED
  if (given !== undefined && given !== "") {
    const seed = Number(given)
    if (!Number.isSafeInteger(seed) || seed < 0)
      throw new Error("HELMR_FUZZ_SEED: a non-negative integer")
    return seed
  }
  return Math.floor(Math.random() * 2 ** 32)
}
