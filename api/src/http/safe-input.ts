/**
 * What every string the API accepts must be, wherever it comes from (JSON body, query, path,
 * header): Postgres `text` and `jsonb` cannot hold NUL, and a lone UTF-16 surrogate is not text
 * at all (jsonb refuses it, `text` would silently store U+FFFD). Refusing both at the edge is
 * what keeps them from reaching a query as a 500 or a half-written row.
 */

/**
 * Deepest JSON nesting a body may have. Postgres' jsonb parser runs out of stack a few
 * thousand levels down, and no payload a person writes comes near this.
 */
export const MAX_JSON_DEPTH = 100

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** Why `text` cannot be stored as it is, or null when it can. */
export function unsafeTextReason(text: string): string | null {
  if (text.includes("\u0000")) return "must not contain NUL (\\u0000)"
  if (LONE_SURROGATE.test(text)) return "must be valid Unicode: it holds a lone surrogate"
  return null
}

export type JsonPath = (string | number)[]

/** Where a value cannot be stored intact, and why. */
export interface UnsafeInput {
  path: JsonPath
  message: string
}

/**
 * The first part of a parsed JSON value that cannot be stored intact: a string or key with NUL
 * or a lone surrogate, a number JSON cannot carry (1e400 parses to Infinity), or nesting past
 * `maxDepth`. Iterative, so a hostile depth cannot overflow the stack.
 */
export function findUnsafeJson(value: unknown, maxDepth = MAX_JSON_DEPTH): UnsafeInput | null {
  const stack: { value: unknown; path: JsonPath; depth: number }[] = [{ value, path: [], depth: 0 }]
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const at = item.path
    const current = item.value
    if (typeof current === "string") {
      const reason = unsafeTextReason(current)
      if (reason) return { path: at, message: reason }
    } else if (typeof current === "number") {
      if (!Number.isFinite(current)) return { path: at, message: "number is out of range" }
    } else if (current !== null && typeof current === "object") {
      if (item.depth >= maxDepth) {
        return { path: at, message: `nested deeper than ${maxDepth} levels` }
      }
      const entries: [string | number, unknown][] = Array.isArray(current)
        ? current.map((v, i) => [i, v])
        : Object.entries(current)
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i] as [string | number, unknown]
        if (typeof key === "string") {
          const reason = unsafeTextReason(key)
          if (reason) {
            // The key itself is unprintable: name it escaped.
            return { path: [...at, JSON.stringify(key)], message: `key ${reason}` }
          }
        }
        stack.push({ value: child, path: [...at, key], depth: item.depth + 1 })
      }
    }
  }
  return null
}
