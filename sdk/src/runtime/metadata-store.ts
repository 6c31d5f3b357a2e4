import { MAX_METADATA_BYTES, utf8Length } from "../contract/runtime-limits.ts"
import type { MetadataHost } from "./current-run.ts"

/**
 * The run's metadata inside the sandbox: a JSON object changed by `metadata.*`, each change
 * checked against the 256 KiB cap before it is applied, and sent to the runner (whole, at most
 * every `flushMs`) which stores it in Postgres. `flush()` sends a pending change at once (the end
 * of the run).
 */

/**
 * A change that would make the metadata larger than its cap; nothing was changed.
 *
 * @example
 * ```ts
 * try { metadata.set("blob", huge) } catch (e) { if (e instanceof MetadataTooLargeError) trim() }
 * ```
 */
export class MetadataTooLargeError extends Error {
  override name = "MetadataTooLargeError"
  /** Also true for this error made by another copy of the SDK (the runtime's, a bundle's). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof Error && value.name === "MetadataTooLargeError"
  }
  constructor(readonly bytes: number) {
    super(
      `run metadata would be ${bytes} bytes of JSON, over its cap of 256 KiB (${MAX_METADATA_BYTES} bytes); the change was not applied`,
    )
  }
}

type Json = Record<string, unknown>

/**
 * The metadata host plus the flush the runtime awaits before the result.
 *
 * @example
 * ```ts
 * const store: MetadataStore = createMetadataStore({ initial: {}, send })
 * ```
 */
export interface MetadataStore extends MetadataHost {
  /** Sends a pending change now; resolves when it was written to stdout. */
  flush(): Promise<void>
}

function toJsonValue(api: string, value: unknown): unknown {
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch (error) {
    throw new TypeError(`${api}: the value is not JSON-serializable (${String(error)})`)
  }
  if (text === undefined) {
    throw new TypeError(`${api}: the value is not JSON-serializable (${typeof value})`)
  }
  return JSON.parse(text)
}

function checkKey(api: string, key: unknown): asserts key is string {
  if (typeof key !== "string" || key.length === 0) {
    throw new TypeError(`${api}: the key must be a non-empty string`)
  }
}

/**
 * A run's metadata inside the sandbox, starting from what the run already stored.
 *
 * @example
 * ```ts
 * const store = createMetadataStore({ initial: start.metadata ?? {}, send: (m) => sendFrame(m) })
 * store.increment("done", 1)
 * await store.flush()
 * ```
 */
export function createMetadataStore(options: {
  initial: Json
  send: (metadata: Json) => Promise<void>
  flushMs?: number
}): MetadataStore {
  const flushMs = options.flushMs ?? 100
  let state: Json = options.initial
  let dirty = false
  let timer: ReturnType<typeof setTimeout> | null = null
  let sending: Promise<void> = Promise.resolve()

  const flush = (): Promise<void> => {
    if (timer) {
      clearTimeout(timer)
      timer = null
    }
    if (!dirty) return sending
    dirty = false
    const snapshot = state
    sending = sending.then(() => options.send(snapshot))
    return sending
  }

  /** Applies `next` if it fits under the cap; the previous state is kept otherwise. */
  const commit = (next: Json) => {
    const bytes = utf8Length(JSON.stringify(next))
    if (bytes > MAX_METADATA_BYTES) throw new MetadataTooLargeError(bytes)
    state = next
    dirty = true
    timer ??= setTimeout(() => void flush(), flushMs)
  }

  const numberAt = (api: string, key: string): number => {
    const value = state[key] ?? 0
    if (typeof value !== "number") {
      throw new TypeError(`${api}: metadata "${key}" is a ${typeof value}, not a number`)
    }
    return value
  }

  const add = (api: string, key: string, by: number) => {
    checkKey(api, key)
    if (!Number.isFinite(by)) throw new TypeError(`${api}: the amount must be a finite number`)
    commit({ ...state, [key]: numberAt(api, key) + by })
  }

  return {
    set(key, value) {
      checkKey("metadata.set", key)
      if (value === undefined) throw new TypeError("metadata.set: use metadata.del to remove a key")
      commit({ ...state, [key]: toJsonValue("metadata.set", value) })
    },
    get(key) {
      const value = state[key]
      return value === undefined ? undefined : structuredClone(value)
    },
    del(key) {
      checkKey("metadata.del", key)
      if (!(key in state)) return
      const { [key]: _gone, ...rest } = state
      commit(rest)
    },
    increment: (key, by) => add("metadata.increment", key, by),
    append(key, value) {
      checkKey("metadata.append", key)
      const item = toJsonValue("metadata.append", value)
      const existing = state[key]
      const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [existing]
      commit({ ...state, [key]: [...list, item] })
    },
    current: () => structuredClone(state),
    flush,
  }
}
