import { createHash } from "node:crypto"
import type { ImageGraph } from "@helmr/sdk/contract"

/** Bumped whenever the rendering of graphs changes, so every tag changes with it. */
export const BUILDER_VERSION = "helmr-builder/1"

/** JSON with sorted keys: equal values, equal text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`
  if (value && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`
  }
  return JSON.stringify(value)
}

function sha256(...parts: string[]): string {
  const hash = createHash("sha256")
  for (const part of parts) hash.update(part).update("\0")
  return hash.digest("hex")
}

/**
 * The chained content hash of a graph: the base reference, then each step folded in order with
 * the digests of the files it copies. Equal graphs (per project: caches are per project) get
 * equal tags and are never rebuilt; any change changes the tag.
 */
export function graphDigest(graph: ImageGraph, projectId: string): string {
  let chain = sha256(BUILDER_VERSION, projectId, graph.from)
  for (const step of graph.steps) {
    const body = step.op === "copy" ? { ...step, files: undefined } : step
    const files = step.op === "copy" ? step.files.map((f) => `${f.path}=${f.digest}`) : []
    chain = sha256(chain, canonical(body), ...files)
  }
  return chain
}

/** The sandbox image: graph image + workspace ownership + runtime + bundle. */
export function codeLayerDigest(input: {
  graphTag: string
  workspace: string
  runtimeDigest: string
  bundleDigest: string
  entry: string
}): string {
  return sha256(
    BUILDER_VERSION,
    input.graphTag,
    input.workspace,
    input.runtimeDigest,
    input.bundleDigest,
    input.entry,
  )
}
