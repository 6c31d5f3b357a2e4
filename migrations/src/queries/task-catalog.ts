import { CronSpec, type FieldIssue, TaskManifest } from "@helmr/sdk/contract"
import { z } from "zod"
import type { Sql } from "../db.ts"
import { namedQueueLimits } from "../run-flow.ts"
import { OperationError, toFieldIssues } from "./operation-error.ts"

/** Who triggers: an environment and its current (promoted) deployment. */
export interface Caller {
  environmentId: string
  currentDeploymentId: string | null
}

interface Logger {
  warn(fields: object, message: string): void
  error(fields: object, message: string): void
}

/** The part of a deployment manifest the API needs; other fields are the runner's business. */
const DeployedManifest = z.object({
  tasks: z.array(
    z.object({
      id: z.string(),
      kind: z.enum(["task", "scheduled"]),
      payloadSchema: z.record(z.string(), z.unknown()).nullable(),
      maxDuration: z.number().int().positive().optional(),
      cron: CronSpec.optional(),
      queue: TaskManifest.shape.queue,
      retry: TaskManifest.shape.retry,
    }),
  ),
})
export type DeployedTask = z.infer<typeof DeployedManifest>["tasks"][number]

export interface ResolvedTask {
  deploymentId: string
  task: DeployedTask
  /** Limits of the named queues the deployment declares. */
  queueLimits: ReadonlyMap<string, number>
}

interface CachedDeployment {
  tasks: Map<string, DeployedTask>
  queueLimits: Map<string, number>
  /** Compiled payload validators, by task id; null when the schema could not be compiled. */
  validators: Map<string, z.ZodType | null>
}

/**
 * Tasks of each environment's current (promoted) deployment. A deployment's manifest never
 * changes, so it is parsed once and its payload validators compiled once (z.fromJSONSchema);
 * the environment's current-deployment pointer comes with the caller (read with its API key).
 */
export class TaskCatalog {
  readonly #deployments = new Map<string, CachedDeployment>()

  constructor(
    private readonly sql: Sql,
    private readonly logger: Logger,
    private readonly maxCached = 200,
  ) {}

  /** The task in the environment's current deployment; 404 when there is none. */
  async resolve(
    caller: Pick<Caller, "currentDeploymentId">,
    taskId: string,
  ): Promise<ResolvedTask> {
    const deploymentId = caller.currentDeploymentId
    if (!deploymentId) {
      throw new OperationError(
        404,
        "not_found",
        `task '${taskId}' not found: this environment has no promoted deployment`,
      )
    }
    const deployment = await this.#load(deploymentId)
    const task = deployment.tasks.get(taskId)
    if (!task) {
      throw new OperationError(
        404,
        "not_found",
        `task '${taskId}' not found in the current deployment (${deploymentId})`,
      )
    }
    return { deploymentId, task, queueLimits: deployment.queueLimits }
  }

  /** The task's kind, or why it is not there (a schedule's task must be a scheduled task). */
  async kindOf(
    caller: Pick<Caller, "currentDeploymentId">,
    taskId: string,
  ): Promise<{ kind: "task" | "scheduled" } | { missing: string }> {
    try {
      return { kind: (await this.resolve(caller, taskId)).task.kind }
    } catch (error) {
      if (error instanceof OperationError && error.status === 404) return { missing: error.message }
      throw error
    }
  }

  /** Failing paths of `payload` against the task's JSON Schema (prefixed `payload`), or none. */
  validatePayload(resolved: ResolvedTask, payload: unknown): FieldIssue[] {
    const deployment = this.#deployments.get(resolved.deploymentId)
    const schema = resolved.task.payloadSchema
    if (!deployment || !schema) return []
    let validator = deployment.validators.get(resolved.task.id)
    if (validator === undefined) {
      try {
        validator = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0])
      } catch (error) {
        // The sandbox validates again with the task's own zod schema before run(), so a schema
        // this converter cannot read is checked there instead of failing every trigger here.
        this.logger.warn(
          { err: error, deploymentId: resolved.deploymentId, taskId: resolved.task.id },
          "payload schema not compilable; payload checked in the sandbox only",
        )
        validator = null
      }
      deployment.validators.set(resolved.task.id, validator)
    }
    if (!validator) return []
    const result = validator.safeParse(payload)
    return result.success ? [] : toFieldIssues(result.error, "payload")
  }

  async #load(deploymentId: string): Promise<CachedDeployment> {
    const cached = this.#deployments.get(deploymentId)
    if (cached) return cached
    const [row] = await this.sql<{ manifest: unknown }[]>`
      select manifest from deployments where id = ${deploymentId}`
    const parsed = DeployedManifest.safeParse(row?.manifest)
    if (!parsed.success) {
      this.logger.error({ deploymentId, issues: parsed.error.issues }, "unreadable manifest")
      throw new OperationError(
        500,
        "internal",
        `deployment ${deploymentId} has an unreadable manifest`,
      )
    }
    const entry: CachedDeployment = {
      tasks: new Map(parsed.data.tasks.map((t) => [t.id, t])),
      queueLimits: namedQueueLimits(parsed.data.tasks),
      validators: new Map(),
    }
    if (this.#deployments.size >= this.maxCached) {
      const oldest = this.#deployments.keys().next().value
      if (oldest !== undefined) this.#deployments.delete(oldest)
    }
    this.#deployments.set(deploymentId, entry)
    return entry
  }
}
