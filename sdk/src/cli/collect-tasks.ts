import { DESCRIBE, kindOf } from "../authoring/brand.ts"
import type { TaskDescription } from "../authoring/declare.ts"
import type { ImageGraph, SandboxSpec, TaskManifest } from "../contract/manifest.ts"

/** What the project's exports declare, before the copied files are read and digested. */
export interface DraftManifest {
  tasks: TaskManifest[]
  sandboxes: SandboxSpec[]
  images: ImageGraph[]
}

/** A problem with the project's exports as a whole (the declarations themselves were fine). */
export class CollectError extends Error {
  override name = "CollectError"
}

/**
 * Walks a loaded module's exports for tasks (recognised by their registered symbol, whichever SDK
 * copy made them) and gathers their sandboxes and images, checking that names agree: one id per
 * task, one definition per sandbox or image name, and no declared task left unexported.
 */
export function collectTasks(
  exports: Record<string, unknown>,
  declared: ReadonlyMap<string, object>,
): DraftManifest {
  const draft: DraftManifest = { tasks: [], sandboxes: [], images: [] }
  const seen = new Map<object, string>()
  const byId = new Map<string, string>()
  const sandboxes = new Map<string, { spec: SandboxSpec; task: string }>()
  const images = new Map<string, { graph: ImageGraph; task: string }>()

  for (const exportName of Object.keys(exports).sort()) {
    const value = exports[exportName]
    if (kindOf(value) !== "task" || seen.has(value as object)) continue
    seen.set(value as object, exportName)
    const describe = (value as { [DESCRIBE]: () => TaskDescription })[DESCRIBE]
    const { task, sandbox, image } = describe()
    const other = byId.get(task.id)
    if (other !== undefined) {
      throw new CollectError(
        `task ${JSON.stringify(task.id)}: id: duplicate task id (exports "${other}" and "${exportName}")`,
      )
    }
    byId.set(task.id, exportName)
    draft.tasks.push({ ...task, exportName })
    addOnce(sandboxes, sandbox.name, { spec: sandbox, task: task.id }, "sandbox", (s) => s.spec)
    addOnce(images, image.name, { graph: image, task: task.id }, "image", (i) => i.graph)
  }
  const unexported = [...declared.keys()].filter((id) => !byId.has(id))
  if (unexported.length > 0) {
    throw new CollectError(
      `${unexported.map((id) => `task ${JSON.stringify(id)}`).join(", ")}: declared but not exported from the entry module; export it (export const … = task(…)) so Helmr can run it`,
    )
  }
  draft.sandboxes = [...sandboxes.values()].map((s) => s.spec)
  draft.images = [...images.values()].map((i) => i.graph)
  return draft
}

function addOnce<T extends { task: string }>(
  into: Map<string, T>,
  name: string,
  item: T,
  what: "sandbox" | "image",
  body: (item: T) => unknown,
): void {
  const known = into.get(name)
  if (!known) {
    into.set(name, item)
    return
  }
  if (JSON.stringify(body(known)) !== JSON.stringify(body(item))) {
    throw new CollectError(
      `task ${JSON.stringify(item.task)}: ${what} ${JSON.stringify(name)} differs from the ${what} of the same name used by task ${JSON.stringify(known.task)}; give different ${what}s different names`,
    )
  }
}
