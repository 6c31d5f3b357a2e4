import type { Duplex } from "node:stream"
import type Docker from "dockerode"
import type { OutputStream, Sandbox, SandboxExit } from "./driver.ts"
import { createDemuxer, createLineSplitter } from "./lines.ts"

/**
 * One hijacked attach connection to a sandbox container (stdin, stdout, stderr), as a Sandbox.
 * Used for a fresh container (attached before it starts, so no output is missed) and for a
 * living one a restarted runner adopts.
 */

export function httpStatus(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode
}

export async function ignoring(codes: number[], action: () => Promise<unknown>): Promise<void> {
  try {
    await action()
  } catch (error) {
    if (!codes.includes(httpStatus(error) ?? 0)) throw error
  }
}

export interface AttachedStream {
  stream: Duplex
  splitters: Record<OutputStream, ReturnType<typeof createLineSplitter>>
  ended: Promise<void>
}

export async function attachStream(
  container: Docker.Container,
  onLine: (stream: OutputStream, line: string) => void,
): Promise<AttachedStream> {
  const stream = (await container.attach({
    stream: true,
    stdin: true,
    stdout: true,
    stderr: true,
    hijack: true,
  })) as unknown as Duplex
  const splitters = {
    stdout: createLineSplitter((line) => onLine("stdout", line)),
    stderr: createLineSplitter((line) => onLine("stderr", line)),
  }
  const ended = new Promise<void>((resolve) => {
    stream.on("end", resolve)
    stream.on("close", resolve)
    stream.on("error", resolve)
  })
  stream.on(
    "data",
    createDemuxer(
      (chunk) => splitters.stdout.push(chunk),
      (chunk) => splitters.stderr.push(chunk),
    ),
  )
  return { stream, splitters, ended }
}

/** How long a container may outlive its attach stream before it counts as lost. */
const STREAM_LOST_GRACE_MS = 15_000

/** The Sandbox of an attached, started container. */
export function attachedSandbox(
  container: Docker.Container,
  attached: AttachedStream,
  workspace: string,
  options: { streamLostGraceMs?: number } = {},
): Sandbox {
  const streamLostGraceMs = options.streamLostGraceMs ?? STREAM_LOST_GRACE_MS
  const { stream, splitters, ended } = attached
  let detach = () => {}
  const detached = new Promise<void>((resolve) => {
    detach = resolve
  })
  // Detaching ends the wait request too: a pending request would keep a stopping runner alive.
  const waiting = new AbortController()
  const exited = (async (): Promise<SandboxExit> => {
    // Asked after start: `not-running` then means this run's exit, even if it came first.
    let result: { StatusCode?: number }
    // The attach stream is the runner's only channel to the task: once it ended, a container
    // that does not end too is out of reach (its engine restarted under it, and a restarted
    // engine may never report its end). Past the grace it is killed and the attempt ends.
    let lost: ReturnType<typeof setTimeout> | undefined
    let settled = false
    const unreachable = ended.then(
      () =>
        new Promise<"lost">((resolve) => {
          if (!settled) lost = setTimeout(() => resolve("lost"), streamLostGraceMs)
        }),
    )
    try {
      const outcome = await Promise.race([
        container.wait({ abortSignal: waiting.signal }) as Promise<{ StatusCode?: number }>,
        unreachable,
      ])
      if (outcome === "lost") {
        if (waiting.signal.aborted) return new Promise<SandboxExit>(() => {})
        waiting.abort()
        await ignoring([404, 409], () => container.kill({ signal: "SIGKILL" })).catch(() => {})
        return { exitCode: null, oomKilled: false }
      }
      result = outcome
    } catch (error) {
      if (waiting.signal.aborted) return new Promise<SandboxExit>(() => {})
      throw error
    } finally {
      settled = true
      clearTimeout(lost)
    }
    // Output may still be in flight when wait returns; give the stream a moment to drain.
    await Promise.race([ended, Bun.sleep(2_000)])
    for (const name of ["stdout", "stderr"] as OutputStream[]) splitters[name].end()
    // Already removed (the attempt ended on an error and removed it, a sweep did, or a warm
    // sandbox was drained from its pool): the wait's status code is all there is to know.
    const info = await container.inspect().catch((error: unknown) => {
      if (httpStatus(error) === 404) return null
      throw error
    })
    return {
      exitCode: result.StatusCode ?? info?.State.ExitCode ?? null,
      oomKilled: info?.State.OOMKilled === true,
    }
  })()
  // Nobody awaits `exited` when the attempt ended before supervising the sandbox (a failed
  // write after the start): its rejection must not be unhandled, which would end the runner.
  exited.catch(() => {})
  return {
    id: container.id,
    workspace,
    send(message) {
      if (!stream.destroyed) stream.write(`${JSON.stringify(message)}\n`)
    },
    exited,
    async kill() {
      await ignoring([404, 409], () => container.kill({ signal: "SIGKILL" }))
    },
    async remove() {
      stream.destroy()
      await ignoring([404, 409], () => container.remove({ force: true, v: true }))
    },
    detach() {
      waiting.abort()
      stream.destroy()
      detach()
    },
    detached,
  }
}

/**
 * What a container printed after `since` and up to now, replayed line by line (the Engine keeps
 * it in the container's log while no client is attached). Lines are kept by the Engine's
 * timestamp, so a line printed at or before `since` is skipped even if nobody stored it.
 */
export async function replayLogs(
  container: Docker.Container,
  since: Date,
  onLine: (stream: OutputStream, line: string) => void,
): Promise<number> {
  const raw = (await container.logs({
    follow: false,
    stdout: true,
    stderr: true,
    timestamps: true,
    since: Math.floor(since.getTime() / 1000),
  })) as unknown as Buffer
  let replayed = 0
  const keep = (stream: OutputStream) => (line: string) => {
    const space = line.indexOf(" ")
    // RFC 3339 with nanoseconds; Date.parse wants at most milliseconds.
    const at = Date.parse(line.slice(0, space).replace(/(\.\d{3})\d+/, "$1"))
    if (!Number.isFinite(at) || at <= since.getTime()) return
    replayed += 1
    onLine(stream, line.slice(space + 1))
  }
  const out = createLineSplitter(keep("stdout"))
  const err = createLineSplitter(keep("stderr"))
  createDemuxer(
    (chunk) => out.push(chunk),
    (chunk) => err.push(chunk),
  )(new Uint8Array(raw))
  out.end()
  err.end()
  return replayed
}
