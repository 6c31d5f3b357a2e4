import { createClient, type HelmrClient } from "./index.ts"
import type { SchedulesNamespace } from "./schedules.ts"
import type { StreamsNamespace } from "./streams.ts"

let configured: HelmrClient | null = null

/** Reads a variable on Bun, Node (process.env) and Deno (Deno.env); undefined when not allowed. */
function readEnv(name: string): string | undefined {
  const g = globalThis as {
    process?: { env?: Record<string, string | undefined> }
    Deno?: { env?: { get(key: string): string | undefined } }
  }
  try {
    return g.process?.env?.[name] ?? g.Deno?.env?.get(name)
  } catch {
    return undefined
  }
}

/**
 * Sets the client the top-level facades use. Without it they read `HELMR_API_URL` and
 * `HELMR_API_KEY` from the environment on first use.
 *
 * @example
 * configure({ apiUrl: "https://helmr.example.com", apiKey: env.HELMR_API_KEY })
 */
export function configure(options: Parameters<typeof createClient>[0]): void {
  configured = createClient(options)
}

/** The client the top-level facades use (configured, or from the environment on first use). */
export function defaultClient(): HelmrClient {
  if (configured) return configured
  const apiUrl = readEnv("HELMR_API_URL")
  const apiKey = readEnv("HELMR_API_KEY")
  if (!apiUrl || !apiKey) {
    throw new Error(
      "Helmr client not configured: set HELMR_API_URL and HELMR_API_KEY, or call configure({ apiUrl, apiKey })",
    )
  }
  configured = createClient({ apiUrl, apiKey })
  return configured
}

/**
 * The imperative schedule functions on the default client, for the top-level `schedules` facade
 * (`schedules.create(...)`). Each call resolves the client lazily, so importing costs nothing.
 *
 * @example
 * import { schedules } from "@helmr/sdk"
 * await schedules.create({ deduplicationKey: "nightly-main", task: "nightly-maintenance", cron: "0 2 * * *" })
 */
export const scheduleClientFunctions: SchedulesNamespace = {
  create: (body) => defaultClient().schedules.create(body),
  list: (query) => defaultClient().schedules.list(query),
  retrieve: (id) => defaultClient().schedules.retrieve(id),
  update: (id, body) => defaultClient().schedules.update(id, body),
  slots: (id, query) => defaultClient().schedules.slots(id, query),
  activate: (id) => defaultClient().schedules.activate(id),
  deactivate: (id) => defaultClient().schedules.deactivate(id),
  del: (id) => defaultClient().schedules.del(id),
  timezones: () => defaultClient().schedules.timezones(),
}

/**
 * The stream reader on the default client, for the top-level `streams` facade
 * (`streams.read(sessionId, name)`); `streams.append` and `streams.pipe` work inside a run.
 *
 * @example
 * import { streams } from "@helmr/sdk"
 * for await (const chunk of streams.read(sessionId, "tokens")) console.log(chunk.offset, chunk.data)
 */
export const streamClientFunctions: Pick<StreamsNamespace, "read"> = {
  read: (sessionId, name, options) => defaultClient().streams.read(sessionId, name, options),
}
