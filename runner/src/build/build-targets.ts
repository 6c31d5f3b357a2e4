import type { ImageGraph, Manifest } from "@helmr/sdk/contract"

/**
 * What a deployment's build makes: one sandbox image per sandbox its tasks use (the image graph
 * plus the code layer for the sandbox's workspace). Pure; the build loop does the I/O.
 */
export interface BuildTarget {
  sandbox: string
  graph: ImageGraph
  workspace: string
}

export function buildTargets(manifest: Manifest): BuildTarget[] | { error: string } {
  const targets: BuildTarget[] = []
  const seen = new Set<string>()
  for (const task of manifest.tasks) {
    if (seen.has(task.sandbox)) continue
    seen.add(task.sandbox)
    const sandbox = manifest.sandboxes.find((s) => s.name === task.sandbox)
    if (!sandbox) return { error: `sandbox ${task.sandbox} of task ${task.id} is missing` }
    const graph = manifest.images.find((i) => i.name === sandbox.image)
    if (!graph) return { error: `image ${sandbox.image} of sandbox ${sandbox.name} is missing` }
    targets.push({ sandbox: sandbox.name, graph, workspace: sandbox.workspace })
  }
  return targets
}
