import { join } from "node:path"
import { bundleProject } from "./deployments.ts"
import { BASE_IMAGE } from "./fixtures.ts"

/** The `durable` fixture project (metadata, streams, ctx) and its manifest. */

export function durableBundle(): Promise<Uint8Array> {
  return bundleProject(join(import.meta.dir, "fixtures", "durable"))
}

export function durableManifest() {
  const task = (id: string, payloadSchema: unknown = null) => ({
    id,
    kind: "task",
    exportName: id,
    sandbox: "sb",
    payloadSchema,
  })
  return {
    version: 1,
    entry: "index.js",
    tasks: [
      task("meta"),
      task("metaCap"),
      task("metaRetry"),
      task("numbers", {
        type: "object",
        properties: { count: { type: "integer" }, pauseEvery: { type: "integer" } },
        required: ["count"],
      }),
      task("frozen"),
    ],
    sandboxes: [
      {
        name: "sb",
        image: "img",
        workspace: "/workspace",
        resources: { cpu: 1, memory: "256Mi", memoryBytes: 256 * 1024 ** 2 },
        network: "none",
      },
    ],
    images: [{ name: "img", from: BASE_IMAGE, steps: [] }],
  }
}
