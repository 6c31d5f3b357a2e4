import { z } from "zod"
import type { Valkey } from "./client.ts"
import type { ValkeyKeys } from "./keys.ts"

/**
 * Messages on a run's pub/sub channel (`keys.runChannel(runId)`), owned here for the API and the
 * runner. Pub/sub is lossy: every message is a hint to look at Postgres, never the truth.
 * - `status`: the run's status changed (runner).
 * - `events`: run events were inserted (runner's event log).
 * - `cancel`: cancel requested for a starting or running run; its runner aborts it (API).
 * - `canceled`: a queued or waiting run was canceled at once (API).
 * - `token_completed`: a token waitpoint of the run completed (API).
 */
export const RunChannelMessage = z.enum([
  "status",
  "events",
  "cancel",
  "canceled",
  "token_completed",
])
export type RunChannelMessage = z.infer<typeof RunChannelMessage>

/** Publishes one message on the run's channel. */
export async function publishRunMessage(
  valkey: Valkey,
  keys: ValkeyKeys,
  runId: string,
  message: RunChannelMessage,
): Promise<void> {
  await valkey.publish(keys.runChannel(runId), RunChannelMessage.parse(message))
}

/** The message received on a run's channel, or null for anything this version does not know. */
export function parseRunMessage(raw: string): RunChannelMessage | null {
  const parsed = RunChannelMessage.safeParse(raw)
  return parsed.success ? parsed.data : null
}
