import type { FieldIssue } from "@helmr/sdk/contract"
import type { Context } from "hono"
import type { z } from "zod"
import { ApiError } from "../errors.ts"

/** Renders a zod path like the manifest checks do: `tasks[0].cron.pattern`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = ""
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`
    else out += out === "" ? String(part) : `.${String(part)}`
  }
  return out === "" ? "(body)" : out
}

export function toFieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }))
}

export function validationFailed(message: string, issues: FieldIssue[]): ApiError {
  return new ApiError(422, "validation_failed", message, issues)
}

/** The JSON body parsed by `schema`: 415 when not JSON, 400 when malformed, 422 when invalid. */
export async function readJsonBody<S extends z.ZodType>(
  c: Context,
  schema: S,
): Promise<z.output<S>> {
  const type = c.req.header("content-type") ?? ""
  if (!/^application\/json\b/i.test(type)) {
    throw new ApiError(415, "unsupported_media_type", "send the body as application/json")
  }
  let raw: unknown
  try {
    raw = await c.req.json()
  } catch (error) {
    if (error instanceof ApiError) throw error // the body limit's 413
    throw new ApiError(400, "invalid_json", "the request body is not valid JSON")
  }
  const parsed = schema.safeParse(raw)
  if (!parsed.success) {
    const issues = toFieldIssues(parsed.error)
    const first = issues[0]
    throw validationFailed(
      first ? `invalid request body: ${first.path}: ${first.message}` : "invalid request body",
      issues,
    )
  }
  return parsed.data
}
