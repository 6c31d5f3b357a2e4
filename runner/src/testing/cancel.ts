import type { Sql } from "@helmr/migrations/db"
import { publishRunMessage, type Valkey, type ValkeyKeys } from "@helmr/migrations/valkey"

/**
 * What the API does to cancel a started run (the contract in docs/ARCHITECTURE.md):
 * `runs.cancel_requested_at` and a `cancel_requested` run event, then `cancel` on the run's
 * channel. `publish: false` leaves out the message, as when it is lost.
 */
export async function publishCancel(
  sql: Sql,
  valkey: Valkey,
  keys: ValkeyKeys,
  runId: string,
  options: { publish?: boolean } = {},
): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`update runs set cancel_requested_at = now() where id = ${runId}`
    await tx`insert into run_events (run_id, type, data)
      values (${runId}, 'cancel_requested', ${tx.json({ status: "running" })})`
  })
  if (options.publish !== false) await publishRunMessage(valkey, keys, runId, "cancel")
}
