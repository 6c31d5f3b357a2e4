/**
 * Limits of the durable runtime that the task side (SDK runtime) and the servers (runner, API)
 * must agree on. Imports nothing: the in-sandbox runtime bundles this file and must start fast.
 */

/**
 * Largest run metadata, as UTF-8 bytes of its JSON text: 256 KiB.
 *
 * @example
 * ```ts
 * if (bytes > MAX_METADATA_BYTES) throw new Error("metadata over the 256 KiB cap")
 * ```
 */
export const MAX_METADATA_BYTES = 256 * 1024

/**
 * Largest stream chunk, as UTF-8 bytes of its JSON text: 256 KiB.
 *
 * @example
 * ```ts
 * if (bytes > MAX_STREAM_CHUNK_BYTES) throw new Error("chunk too large")
 * ```
 */
export const MAX_STREAM_CHUNK_BYTES = 256 * 1024

/**
 * Stream names: like task ids, 1–128 letters, digits, `.`, `_` and `-`, not starting with a sign.
 *
 * @example
 * ```ts
 * STREAM_NAME_PATTERN.test("llm-tokens") // true
 * ```
 */
export const STREAM_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

/**
 * UTF-8 length of a string, without TextEncoder allocations for pure ASCII.
 *
 * @example
 * ```ts
 * utf8Length("héllo") // 6
 * ```
 */
export function utf8Length(text: string): number {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x80) bytes += 1
    else if (code < 0x800) bytes += 2
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      bytes += 4
      i++
    } else bytes += 3
  }
  return bytes
}
