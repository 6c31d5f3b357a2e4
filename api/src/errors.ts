import { OperationError } from "@helmr/migrations/queries/operation-error"
import type { ErrorCode } from "@helmr/sdk/contract"
import { HTTPException } from "hono/http-exception"
import type { ContentfulStatusCode } from "hono/utils/http-status"

/**
 * The one exception routes throw. `app.onError` is the only place an error becomes a response,
 * always the envelope `{ error: { code, message, details? } }`.
 */
export class ApiError extends HTTPException {
  readonly code: ErrorCode
  readonly details: unknown

  constructor(status: ContentfulStatusCode, code: ErrorCode, message: string, details?: unknown) {
    super(status, { message })
    this.code = code
    this.details = details
  }
}

/** A refusal of an operation shared with the runner (migrations/src/queries), as an ApiError. */
export function asApiError(error: unknown): unknown {
  return error instanceof OperationError
    ? new ApiError(error.status, error.code, error.message, error.details)
    : error
}

export const notFound = (what: string): ApiError =>
  new ApiError(404, "not_found", `${what} not found`)
