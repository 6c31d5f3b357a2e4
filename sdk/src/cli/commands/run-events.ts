import { parseSse } from "../../client/sse.ts"
import { FINAL_RUN_STATUSES, RunEvent, type RunStatus, RunStreamEnd } from "../../contract/runs.ts"
import type { CliConfig } from "../config.ts"
import { CliError } from "../errors.ts"

/** How long `runs logs` without --follow waits for more events once the backlog is out. */
const IDLE_MS = 750
/** …and for the first one (every run has its `queued` event): a loaded API may be slow to start. */
const FIRST_MS = 10_000

export interface StreamOptions {
  follow: boolean
  signal: AbortSignal
  onEvent(event: RunEvent): void
}

/**
 * Reads a run's events over SSE (`GET /runs/{id}/events`). With `follow`, until the run is final
 * (resuming after a dropped connection); without, what it has logged so far: the stream's
 * backlog, ended once nothing more arrives for a moment. Returns the final status, if reached.
 */
export async function streamRunEvents(
  config: CliConfig,
  runId: string,
  options: StreamOptions,
): Promise<RunStatus | null> {
  let lastEventId = "0"
  let drops = 0
  for (;;) {
    const controller = new AbortController()
    const abort = () => controller.abort()
    options.signal.addEventListener("abort", abort, { once: true })
    let idle: ReturnType<typeof setTimeout> | undefined
    const arm = (ms: number) => {
      if (options.follow) return
      clearTimeout(idle)
      idle = setTimeout(abort, ms)
    }
    try {
      const res = await fetch(`${config.apiUrl}/api/v1/runs/${encodeURIComponent(runId)}/events`, {
        headers: {
          authorization: `Bearer ${config.apiKey}`,
          accept: "text/event-stream",
          "last-event-id": lastEventId,
        },
        signal: controller.signal,
      })
      if (!res.ok || !res.body) {
        const text = await res.text().catch(() => "")
        const message = /"message":"([^"]*)"/.exec(text)?.[1] ?? `HTTP ${res.status}`
        throw new CliError(`cannot read the events of ${runId}: ${message}`)
      }
      arm(FIRST_MS)
      for await (const message of parseSse(res.body)) {
        arm(IDLE_MS)
        if (message.event === "end") return RunStreamEnd.parse(JSON.parse(message.data)).status
        if (message.event !== "message") continue
        const event = RunEvent.parse(JSON.parse(message.data))
        lastEventId = event.id
        drops = 0
        options.onEvent(event)
      }
    } catch (error) {
      if (error instanceof CliError) throw error
      if (options.signal.aborted || controller.signal.aborted) return null
      if (++drops > 5) {
        const reason = error instanceof Error ? error.message : String(error)
        throw new CliError(`the event stream of ${runId} kept failing: ${reason}`)
      }
    } finally {
      clearTimeout(idle)
      options.signal.removeEventListener("abort", abort)
    }
    if (options.signal.aborted || !options.follow) return null
    await Bun.sleep(500)
  }
}

/** One event as a line: `time  type  [level]  message`. */
export function formatEvent(event: RunEvent): string {
  const time = event.createdAt.replace("T", " ").replace(/\.\d+Z$|Z$/, "")
  const level = event.level && event.type === "log" ? `${event.level.toUpperCase().padEnd(5)} ` : ""
  const kind = event.type === "log" ? "" : `[${event.type}] `
  const text = event.message ?? (event.data === null ? "" : JSON.stringify(event.data))
  return `${time}  ${kind}${level}${text}`
}

export const isFinal = (status: RunStatus) => FINAL_RUN_STATUSES.includes(status)
