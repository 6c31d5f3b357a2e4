/**
 * Whether the container engine answers, as the runner needs to know it: a run whose attempt could
 * not start because the engine was down (its socket gone while dockerd restarts, refused, cut) is
 * not the task's failure, so it goes back to the queue without using an attempt; and the runner
 * takes no run while its engine does not answer, instead of burning every queued run's attempts
 * in a second. Pure except for the `ping` it is given.
 */

/** The engine did not answer the attempt's request at all; its cause is the transport error. */
export class EngineUnavailableError extends Error {
  override name = "EngineUnavailableError"
  constructor(cause: unknown) {
    super(
      `the container engine does not answer: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        cause,
      },
    )
  }
}

// Transport errors of a Unix or TCP socket: no HTTP answer came back. An HTTP answer, even a 5xx
// (an OCI runtime refusing a container is a 500), is the engine's verdict on the request instead.
const TRANSPORT_CODES = new Set([
  "ENOENT",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ECONNABORTED",
  "ENOTCONN",
])

/** True when `error` (or an error it wraps) is a transport failure to the engine. */
export function engineUnreachable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== "object" || depth > 4) return false
  const e = error as { code?: unknown; statusCode?: unknown; cause?: unknown }
  if (e instanceof EngineUnavailableError) return true
  if (typeof e.statusCode === "number") return false
  if (typeof e.code === "string" && TRANSPORT_CODES.has(e.code)) return true
  return engineUnreachable(e.cause, depth + 1)
}

export interface EngineHealth {
  /** Records an attempt's error; true (and the engine is suspect) when it was a transport failure. */
  failed(error: unknown): boolean
  /** True when the engine may take work: never suspect, or it answered a ping since. */
  ready(): Promise<boolean>
}

/** `retryMs`: how often a suspect engine is pinged again. */
export function createEngineHealth(
  ping: () => Promise<unknown>,
  options: { retryMs?: number; now?: () => number } = {},
): EngineHealth {
  const retryMs = options.retryMs ?? 1_000
  const now = options.now ?? Date.now
  let suspectSince: number | null = null
  let lastPing = 0
  return {
    failed(error) {
      if (!engineUnreachable(error)) return false
      suspectSince ??= now()
      lastPing = now()
      return true
    },
    async ready() {
      if (suspectSince === null) return true
      if (now() - lastPing < retryMs) return false
      lastPing = now()
      const answered = await ping().then(
        () => true,
        () => false,
      )
      if (answered) suspectSince = null
      return answered
    },
  }
}
