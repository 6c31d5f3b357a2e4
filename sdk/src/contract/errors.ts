import { z } from "zod"

/** Every error code the API answers with. Clients may switch on these; they are stable. */
export const ErrorCode = z.enum([
  "bad_request",
  "invalid_json",
  "validation_failed",
  "unauthorized",
  "forbidden",
  "not_found",
  "method_not_allowed",
  "conflict",
  "payload_too_large",
  "unsupported_media_type",
  "rate_limited",
  "declarative_schedule",
  "build_failed",
  "build_not_ready",
  "missing_secrets",
  "internal",
  "unavailable",
])
export type ErrorCode = z.infer<typeof ErrorCode>

/** The one error envelope: `{ error: { code, message, details? } }`. */
export const ErrorEnvelope = z.object({
  error: z.object({
    code: ErrorCode,
    message: z.string(),
    details: z.unknown().optional(),
    requestId: z.string().optional(),
  }),
})
export type ErrorEnvelope = z.infer<typeof ErrorEnvelope>

/** One failing field of a request: where it is and why. */
export const FieldIssue = z.object({
  path: z.string(),
  message: z.string(),
})
export type FieldIssue = z.infer<typeof FieldIssue>
