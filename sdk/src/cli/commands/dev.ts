import { type FSWatcher, watch } from "node:fs"
import { relative, sep } from "node:path"
import { RunList } from "../../contract/runs.ts"
import { callApi } from "../api.ts"
import type { CliConfig } from "../config.ts"
import { deploy } from "../deploy.ts"
import { CliError } from "../errors.ts"
import type { Output } from "../output.ts"
import { findTaskProject } from "../project.ts"
import type { CliContext } from "./context.ts"
import { formatEvent, streamRunEvents } from "./run-events.ts"

export interface DevOptions {
  env: string
  dir: string | undefined
  entry: string | undefined
  json: boolean
  /** Promote even if the tasks declare secrets the environment lacks. */
  allowMissingSecrets?: boolean
  /** Quiet time after a change before redeploying (ms). */
  debounceMs?: number
  /** How often new runs are looked for (ms). */
  pollMs?: number
}

/** Folders whose changes never redeploy: dependencies, VCS, build output. */
const IGNORED = new Set(["node_modules", ".git", "dist", ".helmr", ".turbo"])

/**
 * `helmr dev`: deploys the project to the environment and promotes it, then watches the project
 * and does so again after every change, and streams the events of every run started meanwhile.
 * A failed redeploy is reported and the watch goes on. Ends when `ctx.signal` aborts (Ctrl-C).
 */
export async function dev(
  config: CliConfig,
  options: DevOptions,
  ctx: CliContext,
): Promise<number> {
  const project = await findTaskProject(options.dir, options.entry)
  const emit = (record: Record<string, unknown>, line: string) =>
    options.json ? ctx.out.result(JSON.stringify(record)) : ctx.out.progress(line)
  // deploy() prints the id as its result; here every line of it is progress.
  const deployOut: Output = {
    result: () => {},
    progress: (line) => (options.json ? undefined : ctx.out.progress(line)),
    error: (line) => ctx.out.error(line),
  }
  const since = new Date().toISOString()

  let running = false
  let pending = false
  const redeploy = async (reason: string): Promise<void> => {
    if (running) {
      pending = true
      return
    }
    running = true
    try {
      emit({ type: "deploying", reason }, `deploying (${reason})`)
      const started = performance.now()
      const result = await deploy(
        config,
        {
          env: options.env,
          dir: project.dir,
          entry: options.entry,
          promote: true,
          json: true,
          allowMissingSecrets: options.allowMissingSecrets === true,
        },
        deployOut,
      )
      const ms = Math.round(performance.now() - started)
      emit(
        { type: "deployed", deployment: result.deployment, changed: result.changed, ms },
        `deployed ${result.deployment.id} (version ${result.deployment.version}) to ${options.env} in ${ms} ms; watching ${project.dir}`,
      )
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      const details = error instanceof CliError ? error.details : []
      emit({ type: "deploy_failed", message, details }, `deploy failed: ${message}`)
      if (!options.json) for (const line of details) ctx.out.error(`  ${line}`)
    } finally {
      running = false
    }
    if (pending && !ctx.signal.aborted) {
      pending = false
      await redeploy("more changes")
    }
  }

  await redeploy("start")
  let timer: ReturnType<typeof setTimeout> | undefined
  const changed = new Set<string>()
  let watcher: FSWatcher
  try {
    watcher = watch(project.dir, { recursive: true }, (_event, file) => {
      if (!file) return
      const path = relative(project.dir, `${project.dir}${sep}${file}`)
      if (path.split(sep).some((part) => IGNORED.has(part))) return
      changed.add(path)
      clearTimeout(timer)
      timer = setTimeout(() => {
        const files = [...changed]
        changed.clear()
        void redeploy(`changed: ${files.slice(0, 3).join(", ")}${files.length > 3 ? ", …" : ""}`)
      }, options.debounceMs ?? 300)
    })
  } catch (error) {
    throw new CliError(
      `cannot watch ${project.dir}: ${error instanceof Error ? error.message : error}`,
    )
  }

  const followed = new Set<string>()
  const streams: Promise<unknown>[] = []
  try {
    while (!ctx.signal.aborted) {
      try {
        const query = new URLSearchParams({ from: since, limit: "50" })
        const { body } = await callApi(config, { method: "GET", path: `/runs?${query}` }, RunList)
        for (const run of body.data.reverse()) {
          if (followed.has(run.id)) continue
          followed.add(run.id)
          const label = `${run.taskId} ${run.id}`
          streams.push(
            streamRunEvents(config, run.id, {
              follow: true,
              signal: ctx.signal,
              onEvent: (event) =>
                options.json
                  ? ctx.out.result(
                      JSON.stringify({ type: "event", runId: run.id, taskId: run.taskId, event }),
                    )
                  : ctx.out.result(`[${label}] ${formatEvent(event)}`),
            }).catch((error: unknown) =>
              ctx.out.error(`[${label}] ${error instanceof Error ? error.message : error}`),
            ),
          )
        }
      } catch (error) {
        ctx.out.error(`helmr: cannot list runs: ${error instanceof Error ? error.message : error}`)
      }
      await sleep(options.pollMs ?? 1000, ctx.signal)
    }
  } finally {
    clearTimeout(timer)
    watcher.close()
    await Promise.allSettled(streams)
  }
  return 0
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    signal.addEventListener("abort", done, { once: true })
    function done() {
      clearTimeout(timer)
      signal.removeEventListener("abort", done)
      resolve()
    }
  })
}
