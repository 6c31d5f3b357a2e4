/**
 * Failures that say nothing about the slot being fired — Postgres or Valkey unreachable,
 * restarting, overloaded, or a serialization/deadlock conflict — are retried without counting
 * against the slot's attempt limit: the slot cannot even be recorded as failed while they last.
 */
const TRANSIENT_CODES = new Set([
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
  "53300", // too_many_connections
  "40001", // serialization_failure
  "40P01", // deadlock_detected
  "55P03", // lock_not_available
  "25P03", // idle_in_transaction_session_timeout
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
])

export function isTransientError(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const code = (error as { code?: unknown }).code
  if (typeof code === "string" && (code.startsWith("08") || TRANSIENT_CODES.has(code))) return true
  // ioredis: the connection dropped, or a command gave up while reconnecting.
  if (error.name === "MaxRetriesPerRequestError") return true
  return /Connection is closed|ECONNREFUSED|ECONNRESET|write EPIPE|Stream isn't writeable/i.test(
    error.message,
  )
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
