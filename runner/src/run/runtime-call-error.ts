import type { SerializedError } from "@helmr/sdk/runtime/protocol"

/**
 * A runtime call refused for a reason the task can act on; `code` and `details` mirror the HTTP
 * API's error envelope (`validation_failed` with the failing fields, `not_found`, `conflict`), so
 * the task sees what a client of the API would see. It becomes a `RuntimeCallError` in the task.
 */
export class CallRefused extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message)
  }

  toSerialized(): SerializedError {
    return {
      name: "RuntimeCallError",
      message: this.message,
      retryable: false,
      data: { code: this.code, ...(this.details === undefined ? {} : { details: this.details }) },
    }
  }
}
