import { createHash } from "node:crypto"
import type { ImageGraph } from "@helmr/sdk/contract"
import type Docker from "dockerode"
import { type BuildProgress, buildImage, ImageBuildError } from "./build-image.ts"
import { ImageGraphError, renderCodeLayer, renderDockerfile } from "./dockerfile.ts"
import { bundleEntryPath, sandboxImageTags } from "./image-hash.ts"
import type { RuntimeBundle } from "./runtime-bundle.ts"
import { createTar, type TarEntry } from "./tar.ts"

/**
 * Turns a task's image graph into the image its sandbox runs: the graph image (tagged by its
 * chained content hash, built only when that tag is missing), then a thin code layer with the
 * runtime and the deployment's bundle. Concurrent requests for one tag share one build and all
 * see its progress.
 */

export interface ImageBuilderOptions {
  docker: Docker
  /** Repository of built images, e.g. `helmr/img`. */
  repo: string
  /** Labels put on every image built (`helmr.owner`, …). */
  labels: Record<string, string>
  /** `never`: a base image missing locally fails the build at once instead of being pulled. */
  pull: "never" | "missing"
  runtime: () => Promise<RuntimeBundle>
}

export interface SandboxImageRequest {
  projectId: string
  graph: ImageGraph
  workspace: string
  bundle: { digest: string; entry: string }
  /** Reads a blob of the project by digest. */
  readBlob(digest: string): Promise<Uint8Array>
}

export interface SandboxImage {
  tag: string
  graphTag: string
  /** Whether this call built the graph image (false: it existed or another run built it). */
  builtGraph: boolean
}

export interface ImageBuilder {
  ensureSandboxImage(request: SandboxImageRequest, progress: BuildProgress): Promise<SandboxImage>
}

const encoder = new TextEncoder()

function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`
}

async function imageExists(docker: Docker, tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect()
    return true
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false
    throw error
  }
}

export function createImageBuilder(options: ImageBuilderOptions): ImageBuilder {
  const inFlight = new Map<string, { done: Promise<boolean>; listeners: Set<BuildProgress> }>()

  /** Builds `tag` unless it exists; joins a build of the same tag already running. */
  async function ensure(
    tag: string,
    image: string,
    progress: BuildProgress,
    makeContext: () => Promise<Uint8Array>,
    labels: Record<string, string>,
  ): Promise<boolean> {
    const running = inFlight.get(tag)
    if (running) {
      progress({ level: "info", message: `image ${image}: waiting for another run preparing it` })
      running.listeners.add(progress)
      try {
        await running.done
        return false
      } finally {
        running.listeners.delete(progress)
      }
    }
    const listeners = new Set<BuildProgress>([progress])
    const fanOut: BuildProgress = (event) => {
      for (const listener of listeners) listener(event)
    }
    // Registered before the first await, so a concurrent request for the tag always joins.
    const done = (async () => {
      if (await imageExists(options.docker, tag)) return false
      progress({ level: "info", message: `image ${image}: building ${tag}` })
      const context = await makeContext()
      const started = Date.now()
      await buildImage(
        options.docker,
        { tag, context, image, labels: { ...options.labels, ...labels } },
        fanOut,
      )
      const seconds = ((Date.now() - started) / 1000).toFixed(1)
      fanOut({ level: "info", message: `image ${image}: built ${tag} in ${seconds}s` })
      return true
    })()
    inFlight.set(tag, { done, listeners })
    try {
      return await done
    } finally {
      inFlight.delete(tag)
    }
  }

  async function graphContext(request: SandboxImageRequest): Promise<Uint8Array> {
    const plan = renderDockerfile(request.graph, {
      projectId: request.projectId,
      reservedRepos: [options.repo],
    })
    if (!(await imageExists(options.docker, request.graph.from)) && options.pull === "never") {
      throw new ImageBuildError(
        `base image ${request.graph.from} of image ${request.graph.name} is not present on this machine and pulling is disabled`,
        { image: request.graph.name, step: `FROM ${request.graph.from}` },
      )
    }
    const entries: TarEntry[] = [{ path: "Dockerfile", content: encoder.encode(plan.dockerfile) }]
    for (const file of plan.files) {
      if (file.digest === null) {
        entries.push({ path: file.contextPath, content: new Uint8Array() })
        continue
      }
      const content = await request.readBlob(file.digest)
      if (sha256(content) !== file.digest)
        throw new ImageBuildError(`file ${file.contextPath} does not match its digest`)
      entries.push({ path: file.contextPath, content })
    }
    return createTar(entries)
  }

  return {
    async ensureSandboxImage(request, progress) {
      const runtime = await options.runtime()
      const tags = sandboxImageTags(options.repo, request, runtime.digest)
      if (!tags)
        throw new ImageBuildError(`bundle entry ${request.bundle.entry} is not a relative path`)
      const { graphTag, tag } = tags
      const entry = bundleEntryPath(request.bundle.entry) ?? ""
      const image = request.graph.name
      // The start path's common case: the run's image exists. One lookup, not one per layer,
      // and nothing said (a run of a built deployment has no build events).
      if (!inFlight.has(tag) && (await imageExists(options.docker, tag)))
        return { tag, graphTag, builtGraph: false }
      let builtGraph: boolean
      try {
        builtGraph = await ensure(graphTag, image, progress, () => graphContext(request), {
          "helmr.kind": "image",
          "helmr.project": request.projectId,
          "helmr.image": image,
        })
      } catch (error) {
        if (error instanceof ImageGraphError) {
          throw new ImageBuildError(`image ${image}: ${error.message}`, {
            image,
            ...(error.step !== undefined && error.step >= 0 ? { stepIndex: error.step } : {}),
          })
        }
        throw error
      }
      // An image that exists says nothing: a run of a built deployment has no build events.
      await ensure(
        tag,
        `${image} + bundle`,
        progress,
        async () =>
          createTar([
            {
              path: "Dockerfile",
              content: encoder.encode(renderCodeLayer(graphTag, request.workspace)),
            },
            { path: "helmr/runtime.js", content: runtime.code },
            { path: `helmr/app/${entry}`, content: await request.readBlob(request.bundle.digest) },
          ]),
        { "helmr.kind": "sandbox-image", "helmr.project": request.projectId, "helmr.image": image },
      )
      return { tag, graphTag, builtGraph }
    },
  }
}
