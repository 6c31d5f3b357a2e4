import { toFieldIssues } from "@helmr/migrations/queries/operation-error"
import type { FieldIssue } from "@helmr/sdk/contract"
import type { Context } from "hono"
import type { z } from "zod"
import { ApiError } from "../errors.ts"

/**
 * Body and query parsing for every route. Not `@hono/zod-validator`: its JSON target treats a body
 * of any other content type as `{}` and reports malformed JSON as a generic 400, and we want
 * 415 / 400 `invalid_json` / 422 `validation_failed` naming each failing path.
 */

/** Shared with the operations the runner also runs (migrations/src/queries). */
export { toFieldIssues }

export function validationFailed(issues: FieldIssue[], message?: string): ApiError {
  const first = issues[0]
  return new ApiError(
    422,
    "validation_failed",
    message ?? (first ? `invalid ${first.path}: ${first.message}` : "invalid request"),
    issues,
  )
}

/**
 * The JSON body parsed by `schema`. An empty body is `{}` (for routes whose fields are optional);
 * a non-JSON content type is 415, unparsable JSON 400, a schema mismatch 422.
 */
export async function readJson<T extends z.ZodType>(c: Context, schema: T): Promise<z.output<T>> {
  const text = await c.req.text()
  let value: unknown = {}
  if (text.trim() !== "") {
    const type = c.req.header("content-type")
    if (type && !/^application\/([a-z0-9.+-]*\+)?json\b/i.test(type)) {
      throw new ApiError(415, "unsupported_media_type", "send the body as application/json")
    }
    try {
      value = JSON.parse(text)
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      throw new ApiError(400, "invalid_json", `malformed JSON body: ${reason}`)
    }
  }
  const parsed = schema.safeParse(value)
  if (!parsed.success) throw validationFailed(toFieldIssues(parsed.error))
  return parsed.data
}

/**
 * Query parameters parsed by `schema`. Keys in `arrays` may repeat and may hold comma-separated
 * values (`?status=queued,running&status=failed`); every other key must appear once.
 */
export function readQuery<T extends z.ZodType>(
  c: Context,
  schema: T,
  arrays: readonly string[] = [],
): z.output<T> {
  const params = new URL(c.req.url).searchParams
  const value: Record<string, string | string[]> = {}
  const issues: FieldIssue[] = []
  for (const key of new Set(params.keys())) {
    const all = params.getAll(key)
    if (arrays.includes(key)) {
      value[key] = all.flatMap((v) => v.split(",")).filter((v) => v !== "")
    } else if (all.length > 1) {
      issues.push({ path: key, message: "must appear once" })
    } else {
      value[key] = all[0] ?? ""
    }
  }
  if (issues.length > 0) throw validationFailed(issues)
  const parsed = schema.safeParse(value)
  if (!parsed.success) throw validationFailed(toFieldIssues(parsed.error, undefined, "(query)"))
  return parsed.data
}
