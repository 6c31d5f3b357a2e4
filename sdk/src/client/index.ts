import { type RunsNamespace, runsNamespace } from "./runs.ts"
import { type SchedulesNamespace, schedulesNamespace } from "./schedules.ts"
import { type SecretsNamespace, secretsNamespace } from "./secrets.ts"
import { type StreamsNamespace, streamsNamespace } from "./streams.ts"
import { type TasksNamespace, tasksNamespace } from "./tasks.ts"
import { type TokensNamespace, tokensNamespace } from "./tokens.ts"
import { type ClientOptions, createTransport } from "./transport.ts"

export { ApiError, ConnectionError, MalformedAnswerError } from "./errors.ts"
export type {
  BatchTriggerItem,
  EventsOptions,
  TriggerResult,
  TriggerRunOptions,
} from "./runs.ts"
export type { StreamChunk, StreamReadOptions } from "./streams.ts"
export type { TaskBatchItem } from "./tasks.ts"
export type { ClientOptions, FetchLike } from "./transport.ts"

/** The Helmr API client: fetch only, so it runs on Bun, Deno, Node and edge runtimes. */
export interface HelmrClient {
  runs: RunsNamespace
  schedules: SchedulesNamespace
  secrets: SecretsNamespace
  streams: StreamsNamespace
  tasks: TasksNamespace
  tokens: TokensNamespace
}

/**
 * A client for one environment (its API key decides which).
 *
 * @example
 * import { createClient } from "@helmr/sdk"
 * const helmr = createClient({ apiUrl: "https://helmr.example.com", apiKey: process.env.HELMR_API_KEY! })
 * const { id } = await helmr.runs.trigger("review-pr", { prNumber: 42 })
 */
export function createClient(options: ClientOptions): HelmrClient {
  const transport = createTransport(options)
  return {
    runs: runsNamespace(transport),
    schedules: schedulesNamespace(transport),
    secrets: secretsNamespace(transport),
    streams: streamsNamespace(transport),
    tasks: tasksNamespace(transport),
    tokens: tokensNamespace(transport),
  }
}
