import { z } from "zod"
import { TaskId } from "./ids.ts"

/**
 * The deployment manifest: what a task project declares, extracted by `helmr deploy` and stored
 * with the deployment. The API validates payloads against `payloadSchema`; the runner builds
 * `images` and starts `sandboxes`; promotion reconciles `schedules`.
 */

export const Digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, "must be sha256:<64 hex>")

/** A file the image graph copies in, by its path in the task project and content digest. */
export const ManifestFile = z.object({ path: z.string().min(1), digest: Digest })
export type ManifestFile = z.infer<typeof ManifestFile>

export const CacheMount = z.object({
  mountPath: z.string().startsWith("/"),
  /** The cache's name; the runner namespaces it per project. */
  cache: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/),
})
export type CacheMount = z.infer<typeof CacheMount>

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

export const ImageGraph = z.object({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/),
  from: z.string().min(1),
  steps: z.array(ImageStep),
})
export type ImageGraph = z.infer<typeof ImageGraph>

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
})
export type SandboxSpec = z.infer<typeof SandboxSpec>

export const SecretDeclaration = z.object({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,255}$/),
  env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
})
export type SecretDeclaration = z.infer<typeof SecretDeclaration>

export const CronSpec = z.object({
  pattern: z.string().min(1),
  timezone: z.string().default("UTC"),
})
export type CronSpec = z.infer<typeof CronSpec>

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
})
export type TaskManifest = z.infer<typeof TaskManifest>

export const Manifest = z.object({
  version: z.literal(1),
  /** The bundle's entry file inside the uploaded bundle. */
  entry: z.string().default("index.js"),
  tasks: z.array(TaskManifest),
  sandboxes: z.array(SandboxSpec),
  images: z.array(ImageGraph),
})
export type Manifest = z.infer<typeof Manifest>
