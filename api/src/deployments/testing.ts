import { Buffer } from "node:buffer"
import type { CreateDeploymentBody, Manifest, TaskManifest } from "@helmr/sdk/contract"
import { sha256Digest } from "./digest.ts"

/** A task of a test upload: a plain task, or a scheduled one when `cron` is given. */
export interface TestTask {
  id: string
  cron?: string
  timezone?: string
}

/**
 * A valid upload body for tests: one image copying `package.json`, one sandbox, the given tasks.
 * `salt` changes the bundle, so otherwise equal uploads become different deployments.
 */
export function buildUpload(
  tasks: readonly TestTask[],
  options: { salt?: string; packageJson?: string } = {},
): CreateDeploymentBody {
  const packageJson = options.packageJson ?? '{ "name": "fixture" }\n'
  const bundle = `// bundle ${options.salt ?? ""}\nexport const tasks = ${JSON.stringify(tasks)}\n`
  const manifestTasks: TaskManifest[] = tasks.map((t, i) => ({
    id: t.id,
    kind: t.cron ? "scheduled" : "task",
    exportName: `task${i}`,
    sandbox: "sb",
    secrets: [],
    payloadSchema: t.cron ? null : { type: "object", properties: { n: { type: "number" } } },
    ...(t.cron ? { cron: { pattern: t.cron, timezone: t.timezone ?? "UTC" } } : {}),
  }))
  const manifest: Manifest = {
    version: 1,
    entry: "index.js",
    tasks: manifestTasks,
    sandboxes: [{ name: "sb", image: "img", workspace: "/workspace", network: "bridge" }],
    images: [
      {
        name: "img",
        from: "helmr-local/bun:1.4.5",
        steps: [
          { op: "workdir", path: "/workspace" },
          {
            op: "copy",
            dest: "/workspace/package.json",
            source: { kind: "file", path: "package.json" },
            files: [{ path: "package.json", digest: sha256Digest(packageJson) }],
          },
          {
            op: "run",
            argv: ["bun", "install"],
            cache: [{ mountPath: "/root/.bun/install/cache", cache: "bun" }],
          },
        ],
      },
    ],
  }
  return {
    manifest,
    bundle: { digest: sha256Digest(bundle), content: Buffer.from(bundle).toString("base64") },
    files: [
      {
        path: "package.json",
        digest: sha256Digest(packageJson),
        content: Buffer.from(packageJson).toString("base64"),
      },
    ],
  }
}
