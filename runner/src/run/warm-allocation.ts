/**
 * How a runner's cap on warm sandboxes is shared among the sandboxes asking for them: one at a
 * time round the pools in key order, so every pool gets some before any gets many, and the same
 * requests always give the same sizes. Pure.
 */
export function allocateWarm(
  wanted: readonly { key: string; n: number }[],
  cap: number,
): Map<string, number> {
  const sorted = [...wanted].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  const sizes = new Map(sorted.map((w) => [w.key, 0]))
  let left = Math.max(0, cap)
  let gave = true
  while (left > 0 && gave) {
    gave = false
    for (const w of sorted) {
      const size = sizes.get(w.key) ?? 0
      if (left === 0 || size >= w.n) continue
      sizes.set(w.key, size + 1)
      left -= 1
      gave = true
    }
  }
  return sizes
}
