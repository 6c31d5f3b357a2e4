import { Readable } from "node:stream"
import type Docker from "dockerode"
import { type BuildVertex, decodeBuildStatus } from "./buildkit-status.ts"
import { openBuildSession } from "./session.ts"

/**
 * One BuildKit build through the Engine API (`POST /build?version=2`), with the context as the
 * request body and a client session kept alive for the whole build. Progress is decoded into
 * step events; a failure names the step and carries its output.
 */

export type BuildProgress = (event: {
  level: "info" | "error"
  message: string
  data?: Record<string, unknown>
}) => void

export class ImageBuildError extends Error {
  override name = "ImageBuildError"
  constructor(
    message: string,
    readonly details: { image?: string; step?: string; stepIndex?: number; output?: string } = {},
  ) {
    super(message)
  }
}

interface VertexState {
  name: string
  started: number | null
  reported: "none" | "started" | "done"
  output: string[]
}

const OUTPUT_TAIL = 60

function appendOutput(state: VertexState, message: string): string[] {
  const lines = message.replace(/\r/g, "").split("\n")
  if (lines.at(-1) === "") lines.pop()
  state.output.push(...lines)
  if (state.output.length > OUTPUT_TAIL) state.output.splice(0, state.output.length - OUTPUT_TAIL)
  return lines
}

/** Steps the user wrote, not BuildKit's internal bookkeeping. */
function isStep(name: string): boolean {
  return /^\[(stage-\d+ )?\d+\/\d+\]/.test(name)
}

export interface BuildRequest {
  tag: string
  context: Uint8Array
  labels: Record<string, string>
  /** Display name of the image, for messages. */
  image: string
  signal?: AbortSignal
}

export async function buildImage(
  docker: Docker,
  request: BuildRequest,
  progress: BuildProgress,
): Promise<{ imageId: string | null; sessionHealthChecks: number }> {
  const session = await openBuildSession(docker)
  const vertexes = new Map<string, VertexState>()
  let failed: { vertex?: VertexState; error: string } | null = null
  let imageId: string | null = null

  const onVertex = (v: BuildVertex) => {
    let state = vertexes.get(v.digest)
    if (!state) {
      state = { name: v.name, started: null, reported: "none", output: [] }
      vertexes.set(v.digest, state)
    }
    if (v.error) failed = { vertex: state, error: v.error }
    if (!isStep(v.name)) return
    if (v.completed && state.reported !== "done") {
      state.reported = "done"
      const seconds = state.started ? (Date.now() - state.started) / 1000 : 0
      const how = v.error ? "failed" : v.cached ? "cached" : `done in ${seconds.toFixed(1)}s`
      progress({
        level: v.error ? "error" : "info",
        message: `${v.name}: ${how}`,
        data: { step: v.name, cached: v.cached, ...(v.error ? { error: v.error } : {}) },
      })
    } else if (v.started && state.reported === "none") {
      state.reported = "started"
      state.started = Date.now()
      progress({ level: "info", message: v.name, data: { step: v.name } })
    }
  }

  try {
    const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) => {
      docker.modem.dial(
        {
          path: "/build?",
          method: "POST",
          file: Readable.from([Buffer.from(request.context)]),
          options: {
            t: request.tag,
            version: "2",
            session: session.id,
            labels: request.labels,
            rm: true,
            forcerm: true,
          },
          isStream: true,
          abortSignal: request.signal,
          statusCodes: { 200: true, 400: "bad parameter", 500: "server error" },
        },
        (error: unknown, s: unknown) =>
          error ? reject(error) : resolve(s as NodeJS.ReadableStream),
      )
    })
    let buffer = ""
    for await (const chunk of stream) {
      buffer += chunk.toString()
      let newline = buffer.indexOf("\n")
      while (newline !== -1) {
        const line = buffer.slice(0, newline).trim()
        buffer = buffer.slice(newline + 1)
        newline = buffer.indexOf("\n")
        if (!line) continue
        const record = JSON.parse(line) as {
          id?: string
          aux?: unknown
          error?: string
          errorDetail?: { message?: string }
        }
        if (record.id === "moby.buildkit.trace" && typeof record.aux === "string") {
          const status = decodeBuildStatus(record.aux)
          for (const v of status.vertexes) onVertex(v)
          for (const log of status.logs) {
            const state = vertexes.get(log.vertex)
            if (!state) continue
            for (const text of appendOutput(state, log.message)) {
              progress({
                level: log.stream === 2 ? "error" : "info",
                message: text,
                data: { step: state.name, output: true },
              })
            }
          }
        } else if (record.id === "moby.image.id") {
          imageId = (record.aux as { ID?: string } | undefined)?.ID ?? null
        } else if (record.error) {
          failed ??= { error: record.errorDetail?.message ?? record.error }
        }
      }
    }
  } catch (error) {
    if (error instanceof ImageBuildError) throw error
    const message = error instanceof Error ? error.message : String(error)
    throw new ImageBuildError(`building image ${request.image} failed: ${message}`, {
      image: request.image,
    })
  } finally {
    session.close()
  }
  const failure = failed as { vertex?: VertexState; error: string } | null
  if (failure) {
    const step = failure.vertex?.name
    throw new ImageBuildError(
      step
        ? `building image ${request.image} failed at ${step}: ${failure.error}`
        : `building image ${request.image} failed: ${failure.error}`,
      {
        image: request.image,
        ...(step ? { step } : {}),
        output: failure.vertex?.output.join("\n") ?? "",
      },
    )
  }
  return { imageId, sessionHealthChecks: session.healthChecks }
}
