import type { ErrorCode, FieldIssue } from "@helmr/sdk/contract"

/**
 * A refusal of a shared operation (schedule writes, triggers), with the HTTP status and the error
 * envelope's code and details. The API answers it like its own errors; the runner hands it to
 * the task that called the operation through the runtime channel.
 */
export class OperationError extends Error {
  constructor(
    readonly status: 400 | 404 | 409 | 422 | 500,
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message)
  }
}

/** What a zod error carries that we report. */
export interface IssueList {
  issues: readonly { path: readonly PropertyKey[]; message: string }[]
}

/** A path as field issues name it: `options.tags[0]`. */
export function renderPath(path: readonly PropertyKey[], prefix = ""): string {
  let rendered = prefix
  for (const part of path) {
    if (typeof part === "number") rendered += `[${part}]`
    else rendered += rendered === "" ? String(part) : `.${String(part)}`
  }
  return rendered
}

/**
 * Zod issues as `{ path, message }`, paths rendered like the manifest checks do
 * (`options.tags[0]`), under `prefix`; an issue of the whole value is `root`.
 */
export function toFieldIssues(error: IssueList, prefix?: string, root = "(body)"): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: renderPath(issue.path, prefix) || root,
    message: issue.message,
  }))
}

export const notFound = (what: string): OperationError =>
  new OperationError(404, "not_found", `${what} not found`)

/** 422 `validation_failed` naming the failing fields. */
export function validationFailed(
  issues: { path: string; message: string }[],
  message?: string,
): OperationError {
  return new OperationError(
    422,
    "validation_failed",
    message ?? (issues[0] ? `invalid ${issues[0].path}: ${issues[0].message}` : "invalid request"),
    issues,
  )
}
