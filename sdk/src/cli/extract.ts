import { join } from "node:path"
import { z } from "zod"
import { ImageGraph, SandboxSpec, TaskManifest } from "../contract/manifest.ts"
import type { DraftManifest } from "./collect-tasks.ts"
import { CliError } from "./errors.ts"

const EXTRACT_TIMEOUT_MS = 60_000
/** Beside this module: the source in the repo, the built file in the published package. */
const EXTRACT_ENTRY = import.meta.path.endsWith(".ts") ? "extract-entry.ts" : "extract-entry.js"

const ExtractResult = z.discriminatedUnion("ok", [
  z.object({
    ok: z.literal(true),
    draft: z.object({
      tasks: z.array(TaskManifest),
      sandboxes: z.array(SandboxSpec),
      images: z.array(ImageGraph),
    }),
  }),
  z.object({
    ok: z.literal(false),
    error: z.object({ name: z.string(), message: z.string(), stack: z.string().optional() }),
  }),
])

/**
 * Loads the bundle in a child Bun process and reads back what it declares. Declaration errors
 * (bad ids, crons, memory sizes, duplicate ids) surface here with the task and field they name.
 */
export async function extractDraft(
  bundlePath: string,
  workDir: string,
  cwd: string,
): Promise<DraftManifest> {
  const outPath = join(workDir, "extract.json")
  const child = Bun.spawn(
    [process.execPath, join(import.meta.dir, EXTRACT_ENTRY), bundlePath, outPath],
    { cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: EXTRACT_TIMEOUT_MS },
  )
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ])
  const output = `${stdout}${stderr}`.trim().split("\n").filter(Boolean).slice(-20)
  const file = Bun.file(outPath)
  if (!(await file.exists())) {
    const why = child.signalCode ? `was killed (${child.signalCode})` : `exited with code ${code}`
    throw new CliError(`loading the bundled project ${why} before declaring its tasks`, 1, output)
  }
  const result = ExtractResult.safeParse(await file.json())
  if (!result.success)
    throw new CliError("the bundled project declared something unreadable", 1, output)
  if (!result.data.ok) {
    const { name, message, stack } = result.data.error
    if (name === "DeclarationError" || name === "CollectError") throw new CliError(message)
    throw new CliError(
      `loading the bundled project failed: ${name}: ${message}`,
      1,
      (stack ?? "")
        .split("\n")
        .slice(1, 8)
        .map((l) => l.trim()),
    )
  }
  return result.data.draft
}
