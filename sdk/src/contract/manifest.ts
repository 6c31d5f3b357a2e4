import { z } from "zod"
import { ConcurrencyLimit, QueueName, RetryOptions } from "./flow-control.ts"
import { TaskId } from "./ids.ts"
import { ScheduleRunOptions } from "./run-options.ts"
import { SchedulePolicy } from "./schedule-policy.ts"

/**
 * The deployment manifest: what a task project declares, extracted by `helmr deploy` and stored
 * with the deployment. The API validates payloads against `payloadSchema`; the runner builds
 * `images` and starts `sandboxes`; promotion reconciles the `cron` of scheduled tasks.
 */

/**
 * A content digest: `sha256:` + 64 lowercase hex characters.
 *
 * @example
 * ```ts
 * Digest.parse("sha256:" + "0".repeat(64))
 * ```
 */
export const Digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, "must be sha256:<64 hex>")

/**
 * A file the image graph copies in, by its path in the task project and content digest.
 *
 * @example
 * ```ts
 * const file: ManifestFile = { path: "package.json", digest: "sha256:…" }
 * ```
 */
export const ManifestFile = z.object({ path: z.string().min(1), digest: Digest })
export type ManifestFile = z.infer<typeof ManifestFile>

/**
 * A build cache mounted during a `run` step (`RUN --mount=type=cache`).
 *
 * @example
 * ```ts
 * { mountPath: "/root/.bun/install/cache", cache: "review-bun" }
 * ```
 */
export const CacheMount = z.object({
  mountPath: z.string().startsWith("/"),
  /** The cache's name; the runner namespaces it per project. */
  cache: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/),
})
export type CacheMount = z.infer<typeof CacheMount>

/**
 * One step of an image graph, in order: `workdir`, `env`, `run` or `copy`.
 *
 * @example
 * ```ts
 * const step: ImageStep = { op: "run", argv: ["bun", "install"], cache: [] }
 * ```
 */
export const ImageStep = z.discriminatedUnion("op", [
  z.object({ op: z.literal("workdir"), path: z.string().startsWith("/") }),
  z.object({
    op: z.literal("env"),
    name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
    value: z.string(),
  }),
  z.object({
    op: z.literal("run"),
    argv: z.array(z.string()).min(1),
    cache: z.array(CacheMount).default([]),
  }),
  z.object({
    op: z.literal("copy"),
    dest: z.string().startsWith("/"),
    /** `source.file(path)` or `source.dir(path)`, relative to the task project. */
    source: z.object({ kind: z.enum(["file", "dir"]), path: z.string().min(1) }),
    /**
     * Every file copied, with its digest: the file itself for `file`; for `dir`, each file below
     * it (paths start with `<source.path>/`; `.git` and `node_modules` are skipped), so file `p`
     * lands at `dest` + the part of `p` after `source.path`. Paths are relative to the project.
     */
    files: z.array(ManifestFile),
  }),
])
export type ImageStep = z.infer<typeof ImageStep>

/**
 * An image: a base reference and its steps, built by the runner with BuildKit.
 *
 * @example
 * ```ts
 * const graph: ImageGraph = { name: "review", from: "node:24-bookworm-slim", steps: [] }
 * ```
 */
export const ImageGraph = z.object({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/),
  from: z.string().min(1),
  steps: z.array(ImageStep),
})
export type ImageGraph = z.infer<typeof ImageGraph>

/**
 * Most pre-started containers one sandbox may ask for (`sandbox(…).warm(n)`); a runner's own cap
 * (`HELMR_RUNNER_WARM_MAX`) may grant fewer.
 *
 * @example
 * ```ts
 * if (n > MAX_WARM_SANDBOXES) throw new Error("too many warm sandboxes")
 * ```
 */
export const MAX_WARM_SANDBOXES = 32

/**
 * A sandbox: its image (by name), workspace, limits, network and warm pool size.
 *
 * @example
 * ```ts
 * SandboxSpec.parse({ name: "review", image: "review", resources: { cpu: 2, memory: "4Gi", memoryBytes: 4294967296 } })
 * ```
 */
export const SandboxSpec = z.object({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/),
  /** Name of an entry of `images`. */
  image: z.string(),
  workspace: z.string().startsWith("/").default("/workspace"),
  resources: z
    .object({
      cpu: z.number().positive(),
      /** As written (`4Gi`) and in bytes. */
      memory: z.string(),
      memoryBytes: z.number().int().positive(),
    })
    .optional(),
  network: z.enum(["bridge", "none"]).default("bridge"),
  /** Pre-started containers a runner keeps for this sandbox (`sandbox(…).warm(n)`); absent: none. */
  warm: z.number().int().min(0).max(MAX_WARM_SANDBOXES).optional(),
})
export type SandboxSpec = z.infer<typeof SandboxSpec>

/**
 * A secret of the environment injected into the sandbox as env variable `env`.
 *
 * @example
 * ```ts
 * { name: "OPENAI_API_KEY", env: "OPENAI_API_KEY" }
 * ```
 */
export const SecretDeclaration = z.object({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,255}$/),
  env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
})
export type SecretDeclaration = z.infer<typeof SecretDeclaration>

/**
 * A declarative schedule: 5-field cron and IANA time zone (default UTC).
 *
 * @example
 * ```ts
 * CronSpec.parse({ pattern: "0 2 * * *" }) // { pattern: "0 2 * * *", timezone: "UTC" }
 * ```
 */
export const CronSpec = z.object({
  pattern: z.string().min(1),
  timezone: z.string().default("UTC"),
})
export type CronSpec = z.infer<typeof CronSpec>

/**
 * A declarative schedule's flow control and run options (`schedules.task({ overlap, … })`),
 * applied to the environment's instance when the deployment is promoted.
 *
 * @example
 * ```ts
 * ScheduleDeclaration.parse({ overlap: "skip", pauseAfterFailures: 3, runOptions: { tags: ["nightly"] } })
 * ```
 */
export const ScheduleDeclaration = SchedulePolicy.extend({
  runOptions: ScheduleRunOptions.optional(),
})
export type ScheduleDeclaration = z.infer<typeof ScheduleDeclaration>

/**
 * A task of the deployment, as the API and the runner read it.
 *
 * @example
 * ```ts
 * const task = manifest.tasks.find((t: TaskManifest) => t.id === "review-pr")
 * ```
 */
export const TaskManifest = z.object({
  id: TaskId,
  /** `scheduled` tasks come from `schedules.task()` and take the generated schedule payload. */
  kind: z.enum(["task", "scheduled"]),
  /** The module export the task is bound to, in the bundle. */
  exportName: z.string().min(1),
  sandbox: z.string(),
  maxDuration: z.number().int().positive().optional(),
  secrets: z.array(SecretDeclaration).default([]),
  /**
   * JSON Schema of the payload (draft 2020-12, from zod, input side); null: the task accepts no
   * payload. Scheduled tasks have null: their payload is the generated ScheduledTaskPayload.
   */
  payloadSchema: z.record(z.string(), z.unknown()).nullable(),
  cron: CronSpec.optional(),
  /**
   * The task's queue: a named one (shared with other tasks naming it) or, without `name`, its
   * own; `concurrencyLimit` caps its runs starting or running at once (none: unlimited).
   */
  queue: z
    .object({ name: QueueName.optional(), concurrencyLimit: ConcurrencyLimit.optional() })
    .optional(),
  /** Attempts and backoff of the task's runs (a trigger may override each field). */
  retry: RetryOptions.optional(),
  /** Flow control and run options of the declarative schedule (scheduled tasks only). */
  schedule: ScheduleDeclaration.optional(),
})
export type TaskManifest = z.infer<typeof TaskManifest>

/**
 * The deployment manifest (see the top of this file).
 *
 * @example
 * ```ts
 * const manifest = Manifest.parse(deployment.manifest)
 * const images = manifest.images.map((i) => i.name)
 * ```
 */
export const Manifest = z.object({
  version: z.literal(1),
  /** The bundle's entry file inside the uploaded bundle. */
  entry: z.string().default("index.js"),
  tasks: z.array(TaskManifest),
  sandboxes: z.array(SandboxSpec),
  images: z.array(ImageGraph),
})
export type Manifest = z.infer<typeof Manifest>
