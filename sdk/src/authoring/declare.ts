import { z } from "zod"
import { ConcurrencyLimit, QueueName, RetryOptions } from "../contract/flow-control.ts"
import type {
  CronSpec,
  ImageGraph,
  SandboxSpec,
  ScheduleDeclaration,
  TaskManifest,
} from "../contract/manifest.ts"
import { DESCRIBE, KIND, kindOf, REGISTRY } from "./brand.ts"
import type { TaskContext } from "./context.ts"
import { DeclarationError } from "./errors.ts"
import { describeSandbox, type Sandbox } from "./sandbox.ts"
import {
  checkEnvName,
  checkIdentifier,
  checkMaxDuration,
  checkSecretName,
  describe,
} from "./validate.ts"

/**
 * A secret of the environment, injected into the sandbox as the env variable `env`.
 *
 * @example
 * ```ts
 * task({ id: "review-pr", sandbox: sb, secrets: [{ name: "OPENAI_API_KEY", env: "OPENAI_API_KEY" }], run })
 * ```
 */
export interface SecretOption {
  /** The secret's name in the environment's store (`helmr secrets`, `PUT /secrets/{name}`). */
  readonly name: string
  /** The environment variable the task reads it from. */
  readonly env: string
}

/**
 * The queue of a task's runs: its own (no `name`) or a named one shared with other tasks, and how
 * many of its runs may be starting or running at once. Triggers may override both.
 *
 * @example
 * ```ts
 * task({ id: "send-email", sandbox: sb, queue: { name: "emails", concurrencyLimit: 5 }, run })
 * ```
 */
export interface QueueOption {
  readonly name?: string
  readonly concurrencyLimit?: number
}

/**
 * Attempts and backoff of a task's runs: attempt n waits `minDelay × factor^(n-1)` (±20 %),
 * at most `maxDelay`. Throw `NonRetriableError` to fail at once.
 *
 * @example
 * ```ts
 * task({ id: "sync", sandbox: sb, retry: { maxAttempts: 3, factor: 2, minDelay: "1s", maxDelay: "1m" }, run })
 * ```
 */
export interface RetryOption {
  readonly maxAttempts?: number
  readonly factor?: number
  /** A duration: `500ms`, `10s`, `5m`, `1h30m`. */
  readonly minDelay?: string
  readonly maxDelay?: string
}

/**
 * What a task object carries at run time (the runner reads these).
 *
 * @example
 * ```ts
 * if (reviewPr.payload) reviewPr.payload.parse(input) // what the runner does before run
 * ```
 */
export interface TaskRuntime {
  readonly kind: "task" | "scheduled"
  readonly sandbox: Sandbox
  readonly maxDuration: number | undefined
  readonly secrets: readonly SecretOption[]
  /** The zod schema payloads are checked against before `run`; undefined: no payload. */
  readonly payload: z.ZodType | undefined
  /** The declarative schedule of a `schedules.task()`. */
  readonly cron: CronSpec | undefined
}

/** What `helmr deploy` reads from a declared task, computed by the SDK copy that declared it. */
export interface TaskDescription {
  task: Omit<TaskManifest, "exportName">
  sandbox: SandboxSpec
  image: ImageGraph
}

export interface DeclareInput {
  kind: "task" | "scheduled"
  id: unknown
  sandbox: unknown
  maxDuration: unknown
  secrets: unknown
  payload: z.ZodType | undefined
  cron: CronSpec | undefined
  queue: unknown
  retry: unknown
  /** A scheduled task's flow control and run options, checked by the caller. */
  schedule?: ScheduleDeclaration | undefined
  run: unknown
}

/** Checks a declaration, registers its id, and returns the task object (typed by the caller). */
export function declareTask(input: DeclareInput): object {
  const id = String(input.id)
  const fail = (field: string, problem: string) => new DeclarationError(field, problem, id)
  const idProblem = checkIdentifier(input.id)
  if (idProblem) throw fail("id", idProblem)
  if (kindOf(input.sandbox) !== "sandbox") {
    throw fail("sandbox", `must be a sandbox(name).image(…), got ${describe(input.sandbox)}`)
  }
  const sb = input.sandbox as Sandbox
  let placed: { sandbox: SandboxSpec; image: ImageGraph }
  try {
    placed = describeSandbox(sb)
  } catch (error) {
    throw error instanceof DeclarationError ? error.forTask(id) : error
  }
  if (input.maxDuration !== undefined) {
    const problem = checkMaxDuration(input.maxDuration)
    if (problem) throw fail("maxDuration", problem)
  }
  const secrets = checkSecrets(input.secrets, fail)
  const flow = checkFlow(input, fail)
  if (typeof input.run !== "function") throw fail("run", "must be a function (payload, ctx) => …")
  const run = input.run as (payload: unknown, ctx: TaskContext) => unknown

  if (registry.has(id)) {
    throw fail(
      "id",
      `duplicate task id: another task is already declared with id ${JSON.stringify(id)}`,
    )
  }
  const taskObject = {
    id,
    kind: input.kind,
    sandbox: sb,
    maxDuration: input.maxDuration as number | undefined,
    secrets,
    payload: input.payload,
    cron: input.cron,
    run: async (payload: unknown, ctx: TaskContext) => run(payload, ctx),
    [KIND]: "task",
    [DESCRIBE]: (): TaskDescription => ({
      task: {
        id,
        kind: input.kind,
        sandbox: placed.sandbox.name,
        ...(input.maxDuration === undefined ? {} : { maxDuration: input.maxDuration as number }),
        secrets: secrets.map((s) => ({ name: s.name, env: s.env })),
        payloadSchema: input.payload ? payloadJsonSchema(id, input.payload) : null,
        ...(input.cron ? { cron: input.cron } : {}),
        ...flow,
        ...(input.schedule ? { schedule: input.schedule } : {}),
      },
      sandbox: placed.sandbox,
      image: placed.image,
    }),
  }
  Object.freeze(taskObject)
  registry.set(id, taskObject)
  return taskObject
}

const QueueDeclaration = z.strictObject({
  name: QueueName.optional(),
  concurrencyLimit: ConcurrencyLimit.optional(),
})

/** `queue` and `retry`, checked with the contract's own schemas (the API checks the same). */
function checkFlow(
  input: DeclareInput,
  fail: (field: string, problem: string) => DeclarationError,
): Pick<TaskManifest, "queue" | "retry"> {
  const out: Pick<TaskManifest, "queue" | "retry"> = {}
  for (const [field, schema] of [
    ["queue", QueueDeclaration],
    ["retry", RetryOptions],
  ] as const) {
    const value = input[field]
    if (value === undefined) continue
    const parsed = schema.safeParse(value)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      const unknownKey = issue?.code === "unrecognized_keys" ? issue.keys.slice(0, 1) : []
      const path = [field, ...(issue?.path ?? []).map(String), ...unknownKey].join(".")
      const problem = unknownKey.length > 0 ? "is not an option" : (issue?.message ?? "is invalid")
      throw fail(path, `${problem}, got ${describe(value)}`)
    }
    Object.assign(out, { [field]: parsed.data })
  }
  return out
}

function checkSecrets(
  value: unknown,
  fail: (field: string, problem: string) => DeclarationError,
): SecretOption[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) throw fail("secrets", "must be an array of { name, env }")
  const envs = new Set<string>()
  return value.map((secret: unknown, index) => {
    const { name, env } = (secret ?? {}) as { name?: unknown; env?: unknown }
    const nameProblem = checkSecretName(name)
    if (nameProblem) throw fail(`secrets[${index}].name`, nameProblem)
    const envProblem = checkEnvName(env)
    if (envProblem) throw fail(`secrets[${index}].env`, envProblem)
    if (envs.has(env as string)) {
      throw fail(`secrets[${index}].env`, `${JSON.stringify(env)} is declared twice`)
    }
    envs.add(env as string)
    return Object.freeze({ name: name as string, env: env as string })
  })
}

export function isZodSchema(value: unknown): value is z.ZodType {
  return (
    typeof value === "object" &&
    value !== null &&
    "_zod" in value &&
    typeof (value as { safeParse?: unknown }).safeParse === "function"
  )
}

function payloadJsonSchema(id: string, schema: z.ZodType): Record<string, unknown> {
  try {
    // The input side: what callers send when they trigger. Parts JSON Schema cannot express
    // (transforms, dates) are left open here and checked by zod in the sandbox before `run`.
    return z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<
      string,
      unknown
    >
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new DeclarationError("payload", `cannot be turned into JSON Schema: ${reason}`, id)
  }
}

/**
 * Tasks declared through this copy of the SDK, by id. A bundle carries one copy, so ids are unique
 * per bundle, while two bundles loaded in one process (two deployments) never clash.
 */
const registry = new Map<string, object>()
{
  const slot = globalThis as { [REGISTRY]?: Map<string, object>[] }
  slot[REGISTRY] ??= []
  slot[REGISTRY].push(registry)
}

/** Every task declared in this process, through any copy of the SDK (what `helmr deploy` reads). */
export function declaredTasks(): Map<string, object> {
  const registries = (globalThis as { [REGISTRY]?: Map<string, object>[] })[REGISTRY] ?? []
  return new Map(registries.flatMap((r) => [...r]))
}
