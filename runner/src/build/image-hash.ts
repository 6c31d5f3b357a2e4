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

/** A task's sandbox image as far as its tags go: what identifies it, without the files. */
export interface SandboxImageIdentity {
  projectId: string
  graph: ImageGraph
  workspace: string
  bundle: { digest: string; entry: string }
}

/** The bundle's entry inside the image (`/helmr/app/<entry>`); null when it is not relative. */
export function bundleEntryPath(entry: string): string | null {
  const path = entry.replace(/^\.?\/+/, "")
  return !path || path.split("/").includes("..") ? null : path
}

/**
 * The two tags of a sandbox image, in `repo`: the graph image and the code layer on top of it.
 * The builder tags what it builds with these, and image collection keeps what they name.
 */
export function sandboxImageTags(
  repo: string,
  image: SandboxImageIdentity,
  runtimeDigest: string,
): { graphTag: string; tag: string } | null {
  const entry = bundleEntryPath(image.bundle.entry)
  if (entry === null) return null
  const graphTag = `${repo}:${graphDigest(image.graph, image.projectId).slice(0, 40)}`
  const tag = `${repo}:${codeLayerDigest({
    graphTag,
    workspace: image.workspace,
    runtimeDigest,
    bundleDigest: image.bundle.digest,
    entry,
  }).slice(0, 40)}`
  return { graphTag, tag }
}
