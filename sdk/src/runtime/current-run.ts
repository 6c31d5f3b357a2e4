/**
 * The run the module-level APIs act on. The in-sandbox runtime installs one host object on
 * `globalThis` under a registered symbol before it calls the task, because the SDK inside a
 * deployed bundle is its own copy of this module (like the logger's sink). Outside a run there is
 * no host, and every module-level API throws `OutsideRunError`.
 */

/**
 * What the runtime offers `metadata`. Values are JSON; every write checks the 256 KiB cap.
 *
 * @example
 * ```ts
 * requireRun("metadata.set").metadata.set("progress", 0.5)
 * ```
 */
export interface MetadataHost {
  set(key: string, value: unknown): void
  get(key: string): unknown
  del(key: string): void
  increment(key: string, by: number): void
  append(key: string, value: unknown): void
  current(): Record<string, unknown>
}

/**
 * What the runtime offers `streams`: buffered appends, and a flush that resolves once everything
 * appended so far has been handed to the runner.
 *
 * @example
 * ```ts
 * const host = requireRun("streams.append")
 * host.streams.append("tokens", "hello")
 * await host.streams.flush()
 * ```
 */
export interface StreamsHost {
  append(name: string, chunk: unknown): void
  flush(): Promise<void>
}

/**
 * The current run as the runtime exposes it. `version` lets a newer SDK copy inside a bundle
 * detect an older runtime.
 *
 * @example
 * ```ts
 * const host: RunHost | null = currentRun()
 * if (host) console.log(host.run.id)
 * ```
 */
export interface RunHost {
  readonly version: 1
  readonly run: { readonly id: string; readonly attempt: number }
  readonly session: { readonly id: string }
  readonly metadata: MetadataHost
  readonly streams: StreamsHost
}

/**
 * Thrown when a module-level API (`metadata`, `streams`, …) is used outside a task run.
 *
 * @example
 * ```ts
 * try { metadata.set("a", 1) } catch (e) { if (e instanceof OutsideRunError) console.log(e.message) }
 * ```
 */
export class OutsideRunError extends Error {
  override name = "OutsideRunError"
  /** Also true for this error made by another copy of the SDK (the runtime's, a bundle's). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof Error && value.name === "OutsideRunError"
  }
  constructor(api: string) {
    super(
      `${api}() can only be used inside a task run (in a task's run function while it runs on Helmr); it was called outside one`,
    )
  }
}

const CURRENT = Symbol.for("helmr.sdk.currentRun")

/**
 * Installs (or with `null` removes) the current run. Only the in-sandbox runtime calls this.
 *
 * @example
 * ```ts
 * setCurrentRun(host) // before calling the task
 * ```
 */
export function setCurrentRun(host: RunHost | null): void {
  const slot = globalThis as { [CURRENT]?: RunHost }
  if (host) slot[CURRENT] = host
  else delete slot[CURRENT]
}

/**
 * The current run, or null outside one.
 *
 * @example
 * ```ts
 * if (currentRun() === null) console.log("not inside a run")
 * ```
 */
export function currentRun(): RunHost | null {
  return (globalThis as { [CURRENT]?: RunHost })[CURRENT] ?? null
}

/**
 * The current run, or an `OutsideRunError` naming the API that needed it.
 *
 * @example
 * ```ts
 * const host = requireRun("metadata.set")
 * ```
 */
export function requireRun(api: string): RunHost {
  const host = currentRun()
  if (!host) throw new OutsideRunError(api)
  return host
}
