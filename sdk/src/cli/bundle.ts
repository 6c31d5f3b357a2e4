import { CliError } from "./errors.ts"
import type { TaskProject } from "./project.ts"

/** The file name of the bundle, as the manifest's `entry` records it. */
export const BUNDLE_ENTRY = "index.js"

/**
 * Bundles the project into one ES module for Bun with everything it imports (the SDK, zod, other
 * dependencies) inlined, so a sandbox needs nothing but this file to load the tasks.
 */
export async function bundleProject(project: TaskProject): Promise<Uint8Array> {
  const result = await Bun.build({
    entrypoints: [project.entry],
    root: project.dir,
    target: "bun",
    format: "esm",
    sourcemap: "inline",
    naming: BUNDLE_ENTRY,
    throw: false,
  })
  if (!result.success) {
    const lines = result.logs.map((log) => {
      const at = log.position
        ? `${log.position.file}:${log.position.line}:${log.position.column}: `
        : ""
      return `${at}${log.message}`
    })
    throw new CliError("the bundle failed to build", 1, lines)
  }
  const extra = result.outputs.filter((o) => o.kind !== "entry-point")
  if (extra.length > 0 || result.outputs.length !== 1) {
    throw new CliError(
      "the bundle must be one module, but the build made more files",
      1,
      extra.map(
        (o) => `${o.path} (${o.kind}): import such files as text, or copy them with source.*`,
      ),
    )
  }
  return new Uint8Array(await (result.outputs[0] as Blob).arrayBuffer())
}
