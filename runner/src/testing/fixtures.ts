import { join } from "node:path"
import { bundleProject } from "./deployments.ts"

/** The `basic` fixture project and a manifest for it (no SDK needed). */

export const BASE_IMAGE = process.env.HELMR_BASE_IMAGE ?? "helmr-local/bun:1.4.5"

export function basicBundle(): Promise<Uint8Array> {
  return bundleProject(join(import.meta.dir, "fixtures", "basic"))
}

const helloPayload = {
  type: "object",
  properties: { name: { type: "string" }, delayMs: { type: "integer" } },
  required: ["name"],
}

export function basicManifest(
  options: {
    sandbox?: Record<string, unknown>
    image?: Record<string, unknown>
    maxDuration?: Record<string, number>
  } = {},
) {
  const task = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    kind: "task",
    exportName: id,
    sandbox: "sb",
    payloadSchema: null,
    ...(options.maxDuration?.[id] ? { maxDuration: options.maxDuration[id] } : {}),
    ...extra,
  })
  return {
    version: 1,
    entry: "index.js",
    tasks: [
      task("hello", { payloadSchema: helloPayload }),
      task("fails"),
      task("flaky"),
      task("sleeper"),
      task("stubborn"),
      task("exits"),
      task("secretive", { secrets: [{ name: "OPENAI_API_KEY", env: "OPENAI_API_KEY" }] }),
      // Declared in the manifest, missing from the bundle.
      task("ghost"),
    ],
    sandboxes: [
      {
        name: "sb",
        image: "img",
        workspace: "/workspace",
        resources: { cpu: 1, memory: "256Mi", memoryBytes: 256 * 1024 ** 2 },
        ...options.sandbox,
      },
    ],
    images: [{ name: "img", from: BASE_IMAGE, steps: [], ...options.image }],
  }
}

/** The `waits` fixture project (timers, tokens, the runtime client) and its manifest. */
export function waitsBundle(): Promise<Uint8Array> {
  return bundleProject(join(import.meta.dir, "fixtures", "waits"))
}

export function waitsManifest() {
  const objectPayload = { type: "object" }
  const task = (id: string, exportName: string, extra: Record<string, unknown> = {}) => ({
    id,
    kind: "task",
    exportName,
    sandbox: "sb",
    payloadSchema: null,
    ...extra,
  })
  return {
    version: 1,
    entry: "index.js",
    tasks: [
      task("waiter", "waiter", { payloadSchema: objectPayload }),
      task("two-waits", "twoWaits", { payloadSchema: objectPayload }),
      task("timer-bench", "timerBench", { payloadSchema: objectPayload }),
      task("quick", "quick"),
      task("busy", "busy"),
      task("token-waiter", "tokenWaiter", { payloadSchema: objectPayload }),
      task("token-maker", "tokenMaker", { payloadSchema: objectPayload }),
      task("parallel-waits", "parallelWaits"),
      task("parent", "parent", { payloadSchema: objectPayload }),
      task("child", "child", {
        payloadSchema: { type: "object", properties: { n: { type: "number" } }, required: ["n"] },
      }),
      {
        ...task("nightly", "nightly", { kind: "scheduled" }),
        cron: { pattern: "0 3 * * *", timezone: "UTC" },
      },
    ],
    sandboxes: [
      {
        name: "sb",
        image: "img",
        workspace: "/workspace",
        resources: { cpu: 1, memory: "256Mi", memoryBytes: 256 * 1024 ** 2 },
      },
    ],
    images: [{ name: "img", from: BASE_IMAGE, steps: [] }],
  }
}

/** The `flow` fixture project: concurrency limits and retries, declared as `task()` would. */
export function flowBundle(): Promise<Uint8Array> {
  return bundleProject(join(import.meta.dir, "fixtures", "flow"))
}

export function flowManifest() {
  const task = (id: string, exportName: string, extra: Record<string, unknown> = {}) => ({
    id,
    kind: "task",
    exportName,
    sandbox: "sb",
    payloadSchema: null,
    ...extra,
  })
  const retry = { maxAttempts: 3, factor: 2, minDelay: "200ms", maxDelay: "1s" }
  return {
    version: 1,
    entry: "index.js",
    tasks: [
      task("slow", "slow", {
        payloadSchema: { type: "object", properties: { ms: { type: "integer" } } },
        // Three: more than one runner's two slots, fewer than both runners' four.
        queue: { concurrencyLimit: 3 },
      }),
      task("tenant-job", "tenantJob", {
        payloadSchema: { type: "object", properties: { ms: { type: "integer" } } },
        queue: { name: "tenants", concurrencyLimit: 1 },
      }),
      task("flaky", "flaky", { retry }),
      task("refuses", "refuses", { retry }),
      task("aborts", "aborts", { retry }),
    ],
    sandboxes: [{ name: "sb", image: "img", workspace: "/workspace" }],
    images: [{ name: "img", from: BASE_IMAGE, steps: [] }],
  }
}
