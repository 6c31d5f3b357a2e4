import { MalformedAnswerError } from "./errors.ts"

/**
 * Light checks of the API's answers. The API validates what it sends against the contract
 * (sdk/src/contract, the one owner of the schemas); the client only makes sure it is talking to
 * that API and not to a proxy's error page or another service. Checking a few typed fields
 * instead of parsing with the contract's zod schemas keeps zod out of browser and edge bundles of
 * the client (the budget in sdk/test/client-size.test.ts).
 */

/** What `Transport.json` needs of a check: zod's `safeParse` shape, so a zod schema fits too. */
export interface AnswerCheck<T> {
  safeParse(
    value: unknown,
  ):
    | { success: true; data: T }
    | { success: false; error: { issues: readonly { message: string }[] } }
}

/** A field's JSON type; a trailing `?` also allows null or absence. */
export type FieldKind =
  | "string"
  | "number"
  | "boolean"
  | "array"
  | "object"
  | "string?"
  | "number?"
  | "object?"

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return "array"
  return value === null ? "null" : typeof value
}

/** The first field of `value` that does not have its kind, as a message; null when all do. */
export function checkFields(value: unknown, fields: Record<string, FieldKind>): string | null {
  if (!isRecord(value)) return `expected an object, got ${kindOf(value)}`
  for (const [name, kind] of Object.entries(fields)) {
    const field = value[name]
    const optional = kind.endsWith("?")
    if (optional && (field === undefined || field === null)) continue
    const want = optional ? kind.slice(0, -1) : kind
    if (kindOf(field) !== want) return `${name}: expected ${want}, got ${kindOf(field)}`
  }
  return null
}

/**
 * A check that `value` is an object with these fields of these kinds (other fields pass as they
 * are). `T` is the contract's type of the answer.
 *
 * @example
 * const RunAnswer = shape<Run>({ id: "string", status: "string", taskId: "string" })
 */
export function shape<T>(fields: Record<string, FieldKind>): AnswerCheck<T> {
  return {
    safeParse(value) {
      const problem = checkFields(value, fields)
      return problem === null
        ? { success: true, data: value as T }
        : { success: false, error: { issues: [{ message: problem }] } }
    },
  }
}

/** A page of items, each checked with `item`'s fields. */
export function pageShape<T>(fields: Record<string, FieldKind>): AnswerCheck<T> {
  return {
    safeParse(value) {
      const problem =
        checkFields(value, { data: "array", nextCursor: "string?" }) ??
        ((value as { data: unknown[] }).data
          .map((item, i) => {
            const p = checkFields(item, fields)
            return p === null ? null : `data[${i}].${p}`
          })
          .find((p) => p !== null) ||
          null)
      return problem === null
        ? { success: true, data: value as T }
        : { success: false, error: { issues: [{ message: problem }] } }
    },
  }
}

/**
 * One SSE message's JSON, checked. A message that is not what the API sends is a bug to report,
 * not a dropped connection: MalformedAnswerError, which stream readers do not retry.
 *
 * @example
 * const event = parseMessage(RunEventAnswer, message.data)
 */
export function parseMessage<T>(check: AnswerCheck<T>, text: string): T {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new MalformedAnswerError(`malformed stream message (not JSON): ${text.slice(0, 200)}`)
  }
  const parsed = check.safeParse(value)
  if (!parsed.success) {
    const why = parsed.error.issues[0]?.message ?? "unexpected shape"
    throw new MalformedAnswerError(`malformed stream message (${why}): ${text.slice(0, 200)}`)
  }
  return parsed.data
}
