import type { ErrorCode } from "../contract/errors.ts"

/**
 * An error answer of the Helmr API: the HTTP status and the envelope's code, message and details.
 *
 * @example
 * try {
 *   await client.runs.retrieve("run_…")
 * } catch (error) {
 *   if (error instanceof ApiError && error.code === "not_found") console.log("no such run")
 * }
 */
export class ApiError extends Error {
  override name = "ApiError"
  constructor(
    readonly status: number,
    /** Stable machine-readable code; `unknown` when the answer was not the API's envelope. */
    readonly code: ErrorCode | "unknown",
    message: string,
    /** For `validation_failed`: `[{ path, message }]` naming each failing field. */
    readonly details?: unknown,
    readonly requestId?: string,
    /** Seconds to wait before retrying, from `Retry-After` (rate limits). */
    readonly retryAfter?: number,
  ) {
    super(message)
  }
}

/**
 * The API could not be reached, or answered something that is not the API's JSON.
 *
 * @example
 * if (error instanceof ConnectionError) setTimeout(retry, 1000)
 */
export class ConnectionError extends Error {
  override name = "ConnectionError"
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/**
 * The API answered, but not with what the contract promises (a proxy in between, a wrong URL, a
 * version mismatch): retrying will not help.
 *
 * @example
 * if (error instanceof MalformedAnswerError) console.error("is HELMR_API_URL the Helmr API?")
 */
export class MalformedAnswerError extends ConnectionError {
  override name = "MalformedAnswerError"
}
