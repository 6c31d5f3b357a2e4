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

export const notFound = (what: string): ApiError =>
  new ApiError(404, "not_found", `${what} not found`)
