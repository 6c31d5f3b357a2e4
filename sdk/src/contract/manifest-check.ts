import type { FieldIssue } from "./errors.ts"
import type { Manifest } from "./manifest.ts"

/**
 * What the manifest schema alone cannot say: names are unique, references resolve, scheduled
 * tasks have a cron and no payload, copy steps list the files they copy, a named queue has one
 * limit. Empty when consistent.
 *
 * @example
 * ```ts
 * const issues = checkManifest(Manifest.parse(json)) // [] when consistent
 * ```
 */
export function checkManifest(manifest: Manifest): FieldIssue[] {
  const issues: FieldIssue[] = []
  const add = (path: string, message: string) => issues.push({ path, message })
  const images = uniqueNames(manifest.images, "images", add)
  const sandboxes = uniqueNames(manifest.sandboxes, "sandboxes", add)
  uniqueNames(
    manifest.tasks.map((t) => ({ name: t.id })),
    "tasks",
    add,
  )
  const exports = new Set<string>()
  const queueLimits = new Map<string, number>()

  manifest.sandboxes.forEach((sandbox, i) => {
    if (!images.has(sandbox.image))
      add(`sandboxes[${i}].image`, `no image named "${sandbox.image}"`)
  })
  manifest.tasks.forEach((task, i) => {
    const at = `tasks[${i}]`
    if (!sandboxes.has(task.sandbox)) add(`${at}.sandbox`, `no sandbox named "${task.sandbox}"`)
    if (exports.has(task.exportName)) add(`${at}.exportName`, `"${task.exportName}" is used twice`)
    exports.add(task.exportName)
    if (task.kind === "scheduled" && !task.cron) add(`${at}.cron`, "a scheduled task needs a cron")
    if (task.kind === "scheduled" && task.payloadSchema !== null) {
      add(`${at}.payloadSchema`, "a scheduled task takes no payload")
    }
    if (task.kind === "task" && task.cron) add(`${at}.cron`, "only scheduled tasks have a cron")
    const { name, concurrencyLimit } = task.queue ?? {}
    if (name !== undefined && concurrencyLimit !== undefined) {
      const declared = queueLimits.get(name)
      if (declared !== undefined && declared !== concurrencyLimit) {
        add(
          `${at}.queue.concurrencyLimit`,
          `queue "${name}" is declared with concurrencyLimit ${declared} by another task`,
        )
      }
      queueLimits.set(name, declared ?? concurrencyLimit)
    }
    if (task.kind === "task" && task.schedule) {
      add(`${at}.schedule`, "only scheduled tasks have schedule options")
    }
  })
  manifest.images.forEach((image, i) => {
    image.steps.forEach((step, j) => {
      if (step.op !== "copy") return
      const at = `images[${i}].steps[${j}]`
      const { kind, path } = step.source
      if (kind === "file") {
        if (step.files.length !== 1 || step.files[0]?.path !== path) {
          add(`${at}.files`, `a file copy lists exactly its file "${path}"`)
        }
      } else {
        if (step.files.length === 0) add(`${at}.files`, `directory "${path}" has no files`)
        const prefix = path === "." ? "" : `${path}/`
        step.files.forEach((file, k) => {
          if (!file.path.startsWith(prefix)) add(`${at}.files[${k}].path`, `not inside "${path}"`)
        })
      }
    })
  })
  return issues
}

function uniqueNames(
  items: readonly { name: string }[],
  at: string,
  add: (path: string, message: string) => void,
): Set<string> {
  const seen = new Set<string>()
  items.forEach((item, i) => {
    if (seen.has(item.name)) add(`${at}[${i}]`, `"${item.name}" is declared twice`)
    seen.add(item.name)
  })
  return seen
}
