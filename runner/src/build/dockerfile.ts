import type { ImageGraph, ImageStep } from "@helmr/sdk/contract"

/**
 * An image graph as a Dockerfile for BuildKit. Pure: the builder feeds the plan's files from the
 * deployment's blobs into the build context. Every value lands in exec (JSON) form or is checked
 * first, so nothing a task project writes can add Dockerfile instructions or mount options.
 */

export interface ContextFile {
  /** Path inside the build context. */
  contextPath: string
  /** The blob to put there; null: an empty placeholder file. */
  digest: string | null
}

export interface DockerfilePlan {
  dockerfile: string
  files: ContextFile[]
  /** The instruction each step rendered to (by step index), to name the step a build failed on. */
  instructions: string[]
}

/** A graph that cannot be built as declared; `step` is the offending step's index. */
export class ImageGraphError extends Error {
  override name = "ImageGraphError"
  constructor(
    message: string,
    readonly step?: number,
  ) {
    super(message)
  }
}

// No spaces, quotes, commas, `$` or backslashes: safe in WORKDIR and in mount options alike.
const SAFE_PATH = /^\/[A-Za-z0-9._@+/-]*$/
// A docker image reference: [registry[:port]/]name[:tag][@digest].
const IMAGE_REF = /^[a-z0-9][a-z0-9._:/-]*(:[A-Za-z0-9_.-]{1,128})?(@sha256:[0-9a-f]{64})?$/

/** The BuildKit cache id of a project's `cache(name)`: one project never sees another's cache. */
export function cacheMountId(projectId: string, cache: string): string {
  return `helmr-${projectId}-${cache}`
}

function checkPath(path: string, what: string, step: number): string {
  if (!SAFE_PATH.test(path) || path.split("/").includes("..")) {
    throw new ImageGraphError(
      `${what} ${JSON.stringify(path)} must be an absolute path of letters, digits and . _ @ + - /`,
      step,
    )
  }
  return path
}

function escapeEnv(value: string): string {
  return value.replace(/[\\"$]/g, (c) => `\\${c}`)
}

/** Paths of a `copy` source's files relative to the source (a dir) or its name (a file). */
function relativeFiles(step: Extract<ImageStep, { op: "copy" }>, index: number): string[] {
  const root = step.source.path.replace(/^\.\/+/, "").replace(/\/+$/, "")
  return step.files.map((file) => {
    const path = file.path.replace(/^\.\/+/, "")
    if (step.source.kind === "file") return path
    if (root === "" || root === ".") return path
    if (!path.startsWith(`${root}/`)) {
      throw new ImageGraphError(`copied file ${path} is not inside ${step.source.path}`, index)
    }
    const rel = path.slice(root.length + 1)
    if (rel.split("/").includes("..")) throw new ImageGraphError(`unsafe path ${path}`, index)
    return rel
  })
}

function renderStep(
  step: ImageStep,
  index: number,
  projectId: string,
  files: ContextFile[],
): string {
  switch (step.op) {
    case "workdir":
      return `WORKDIR ${checkPath(step.path, "workdir", index)}`
    case "env":
      if (/[\r\n]/.test(step.value))
        throw new ImageGraphError(`env ${step.name} must be one line`, index)
      return `ENV ${step.name}="${escapeEnv(step.value)}"`
    case "run": {
      const mounts = step.cache.map(
        (m) =>
          `--mount=type=cache,id=${cacheMountId(projectId, m.cache)},target=${checkPath(m.mountPath, "cache mountPath", index)},sharing=locked`,
      )
      return ["RUN", ...mounts, JSON.stringify(step.argv)].join(" ")
    }
    case "copy": {
      const dest = checkPath(step.dest, "copy destination", index)
      const rels = relativeFiles(step, index)
      if (step.source.kind === "file") {
        const [file, ...extra] = step.files
        if (!file || extra.length > 0)
          throw new ImageGraphError("source.file must list exactly one file", index)
        const contextPath = `files/${file.digest.slice("sha256:".length)}`
        files.push({ contextPath, digest: file.digest })
        return `COPY ${JSON.stringify([contextPath, dest])}`
      }
      const dir = `dirs/${index}`
      step.files.forEach((file, i) => {
        files.push({ contextPath: `${dir}/${rels[i]}`, digest: file.digest })
      })
      // An empty dir still creates the destination.
      if (step.files.length === 0) files.push({ contextPath: `${dir}/.helmr-keep`, digest: null })
      return `COPY ${JSON.stringify([`${dir}/`, dest.endsWith("/") ? dest : `${dest}/`])}`
    }
    default:
      return assertNever(step)
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected image step ${JSON.stringify(value)}`)
}

/** Refuses base images that are another graph's output (they may hold another project's files). */
export function checkBaseImage(from: string, reservedRepos: readonly string[]): void {
  if (!IMAGE_REF.test(from)) {
    throw new ImageGraphError(`from ${JSON.stringify(from)} is not an image reference`)
  }
  const repo = from.split(/[:@]/)[0] ?? from
  if (reservedRepos.some((r) => repo === r || repo.startsWith(`${r}/`))) {
    throw new ImageGraphError(`from ${JSON.stringify(from)}: images built by Helmr are not bases`)
  }
}

/** Renders a graph; `projectId` namespaces its caches. */
export function renderDockerfile(
  graph: ImageGraph,
  options: { projectId: string; reservedRepos?: readonly string[] },
): DockerfilePlan {
  checkBaseImage(graph.from, options.reservedRepos ?? [])
  const files: ContextFile[] = []
  const instructions = graph.steps.map((step, i) => renderStep(step, i, options.projectId, files))
  const dockerfile = [`FROM ${graph.from}`, ...instructions, ""].join("\n")
  return { dockerfile, files, instructions }
}

/**
 * The layer every sandbox image gets on top of its graph: the workspace owned by the sandbox user
 * (cached per graph image and workspace), then the runtime and the bundle under /helmr.
 */
export function renderCodeLayer(baseTag: string, workspace: string, uid = 1000): string {
  const ws = checkPath(workspace, "workspace", -1)
  return [
    `FROM ${baseTag}`,
    `WORKDIR ${ws}`,
    `RUN ${JSON.stringify(["chown", "-R", `${uid}:${uid}`, ws])}`,
    `COPY ${JSON.stringify(["helmr/", "/helmr/"])}`,
    "",
  ].join("\n")
}
