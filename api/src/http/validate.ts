import {
  type IssueList,
  renderPath,
  toFieldIssues,
} from "@helmr/migrations/queries/operation-error"
import type { FieldIssue } from "@helmr/sdk/contract"
import { zValidator } from "@hono/zod-validator"
import type { HonoRequest } from "hono"
import { z } from "zod"
import { ApiError } from "../errors.ts"
import { findUnsafeJson } from "./safe-input.ts"

/**
 * Request validation for every route: `@hono/zod-validator` for the JSON body, the query and the
 * path parameters, with one hook that turns a failure into our 422 envelope naming each failing
 * path. Every schema is wrapped by `guarded`, so no string with NUL or a lone surrogate, no
 * non-finite number and no absurd nesting reaches a handler, whatever the route's schema allows
 * (a payload is `unknown` to its schema but still goes to jsonb).
 *
 * The validator's own JSON reading would treat a body of another content type as `{}` and answer
 * malformed JSON with a bare 400; `validJson` reads the body first and keeps our 415 and
 * 400 `invalid_json`.
 */

type Target = "json" | "query" | "param"
const ROOTS: Record<Target, string> = { json: "(body)", query: "(query)", param: "(path)" }

/** Shared with the operations the runner also runs (migrations/src/queries). */
export { renderPath, toFieldIssues }

export function validationFailed(issues: FieldIssue[], message?: string): ApiError {
  const first = issues[0]
  return new ApiError(
    422,
    "validation_failed",
    message ?? (first ? `invalid ${first.path}: ${first.message}` : "invalid request"),
    issues,
  )
}

/** `schema`, refusing first any value that could not be stored intact (see `findUnsafeJson`). */
export function guarded<T extends z.ZodType>(schema: T) {
  return z
    .unknown()
    .superRefine((value, ctx) => {
      const unsafe = findUnsafeJson(value)
      if (unsafe) ctx.addIssue({ code: "custom", path: unsafe.path, message: unsafe.message })
    })
    .pipe(schema)
}

function onInvalid(result: { success: boolean; error?: IssueList; target: string }): void {
  if (result.success || !result.error) return
  const root = ROOTS[result.target as Target] ?? "(request)"
  throw validationFailed(toFieldIssues(result.error, undefined, root))
}

/**
 * Parses synchronously: zod's async parse costs several times the sync one (a promise per
 * check), and it runs twice on every trigger. A schema with an async part throws
 * `$ZodAsyncError` on a sync parse before deciding anything; it is then parsed async.
 */
function parseSyncFirst<T extends z.ZodType>(schema: T, value: unknown) {
  try {
    return schema.safeParse(value)
  } catch (error) {
    if (error instanceof z.core.$ZodAsyncError) return schema.safeParseAsync(value)
    throw error
  }
}

/**
 * Checks `value`: safe input (nearly all of it) goes to `schema` itself, what the guarded pipe
 * would do after its check passed, without the pipe's own cost on every request. Unsafe input
 * takes `piped` (`guarded(schema)`), which names the offending path.
 */
function check<T extends z.ZodType>(
  schema: T,
  piped: ReturnType<typeof guarded<T>>,
  value: unknown,
) {
  return parseSyncFirst(findUnsafeJson(value) === null ? schema : piped, value)
}

const validate = <K extends Target, T extends z.ZodType>(target: K, schema: T) =>
  zValidator(target, guarded(schema), onInvalid, {
    // The declared result type is conditional on the (generic) schema; the value is zod's own.
    validationFunction: (piped, value) => check(schema, piped, value) as never,
  })

/**
 * The JSON body checked by `schema`, as `c.req.valid("json")`. The body is read and parsed once,
 * here: an empty body is `{}` (for routes whose fields are all optional); a body in another
 * content type is 415 (no content type at all included); unparsable JSON is 400
 * `invalid_json`; then the value is checked like every other target (`validate`).
 */
export function validJson<T extends z.ZodType>(schema: T) {
  const piped = guarded(schema)
  const validateJson: ReturnType<typeof validate<"json", T>> = async (c, next) => {
    const value = await readJson(c.req)
    const result = await check(schema, piped, value)
    if (!result.success) throw validationFailed(toFieldIssues(result.error, undefined, ROOTS.json))
    c.req.addValidatedData("json", result.data as object)
    await next()
  }
  return validateJson
}

async function readJson(req: HonoRequest): Promise<unknown> {
  const text = await req.text()
  if (text.trim() === "") return {}
  if (!isJson(req.header("content-type"))) {
    throw new ApiError(415, "unsupported_media_type", "send the body as application/json")
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new ApiError(400, "invalid_json", `malformed JSON body: ${reason}`)
  }
}

/** The media types the validator reads as JSON (the same test as `hono/validator`). */
function isJson(type: string | undefined): boolean {
  const media = type?.split(";")[0]?.trim() ?? ""
  return /^application\/([\w.-]+\+)?json$/i.test(media)
}

/** Path parameters checked by `schema`, as `c.req.valid("param")`. */
export const validParams = <T extends z.ZodType>(schema: T) => validate("param", schema)

/**
 * Query parameters checked by `schema`, as `c.req.valid("query")`. Keys in `arrays` may repeat
 * and may hold comma-separated values (`?status=queued,running&status=failed`); every other key
 * must appear once.
 */
export function validQuery<T extends z.ZodType>(schema: T, arrays: readonly string[] = []) {
  const normalized = z.preprocess((query, ctx) => {
    const value: Record<string, string | string[]> = {}
    for (const [key, raw] of Object.entries(query as Record<string, string | string[]>)) {
      const all = Array.isArray(raw) ? raw : [raw]
      if (arrays.includes(key)) {
        value[key] = all.flatMap((v) => v.split(",")).filter((v) => v !== "")
      } else if (all.length > 1) {
        ctx.addIssue({ code: "custom", path: [key], message: "must appear once" })
      } else {
        value[key] = all[0] ?? ""
      }
    }
    return value
  }, schema)
  return validate("query", normalized)
}
