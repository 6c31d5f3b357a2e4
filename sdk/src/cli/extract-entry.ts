/**
 * Run by `helmr deploy` in a child process: `bun extract-entry.ts <bundle> <out.json>`. Imports
 * the bundle (declaring its tasks, which checks them), collects the tasks it exports, and writes
 * `{ ok: true, draft }` or `{ ok: false, error }` to out.json. A child process keeps the project's
 * top-level code away from the CLI, and loads only this one bundle.
 */
import { declaredTasks } from "../authoring/declare.ts"
import { collectTasks } from "./collect-tasks.ts"

const [bundlePath, outPath] = process.argv.slice(2)
if (!bundlePath || !outPath) {
  process.stderr.write("usage: extract-entry.ts <bundle.js> <out.json>\n")
  process.exit(2)
}
try {
  const exports = (await import(Bun.pathToFileURL(bundlePath).href)) as Record<string, unknown>
  const draft = collectTasks(exports, declaredTasks())
  await Bun.write(outPath, JSON.stringify({ ok: true, draft }))
  process.exit(0)
} catch (error) {
  const name = error instanceof Error ? error.name : "Error"
  const message = error instanceof Error ? error.message : String(error)
  const stack = error instanceof Error ? error.stack : undefined
  await Bun.write(outPath, JSON.stringify({ ok: false, error: { name, message, stack } }))
  process.exit(1)
}
