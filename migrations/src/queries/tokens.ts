import {
  type CreatedToken,
  type CreateTokenBody,
  MAX_WAIT_MS,
  parseDuration,
} from "@helmr/sdk/contract"
import type { Sql, TransactionSql } from "../db.ts"
import { newId } from "../ids.ts"
import type { WaitpointRow } from "../rows.ts"

/**
 * Waitpoint tokens, shared by the API (`POST /tokens`) and the runner (`tokens.create` inside a
 * run): one insert, one presentation, so both answer alike.
 */

type Tx = Sql | TransactionSql

/**
 * When a token times out, from a duration (from `now`) or an absolute time; a string naming the
 * problem when it is out of range (the caller reports it on `timeout`).
 */
export function tokenTimeoutAt(timeout: string | undefined, now: Date): Date | null | string {
  if (timeout === undefined) return null
  const ms = parseDuration(timeout)
  const at = ms === null ? new Date(timeout) : new Date(now.getTime() + ms)
  if (!Number.isFinite(at.getTime())) return "must be a duration or an ISO-8601 date-time"
  if (at.getTime() - now.getTime() > MAX_WAIT_MS) return "must be at most 365 days away"
  return at
}

/**
 * Creates a pending token in the environment, or returns the one holding `idempotencyKey` (the
 * unique constraint decides). `idempotencyKey` may be a caller's key or one the runner derives
 * (`run:<run id>:<call>`, which a caller's key can never equal: it has a `:`).
 */
export async function createToken(
  sql: Tx,
  input: {
    environmentId: string
    timeoutAt: Date | null
    idempotencyKey: string | null
    tags: string[]
  },
): Promise<{ token: WaitpointRow; created: boolean }> {
  const [inserted] = await sql<WaitpointRow[]>`
    insert into waitpoints (id, environment_id, kind, timeout_at, idempotency_key, tags)
    values (${newId("tok")}, ${input.environmentId}, 'token', ${input.timeoutAt},
      ${input.idempotencyKey}, ${[...new Set(input.tags)]})
    on conflict (environment_id, idempotency_key) do nothing
    returning *`
  if (inserted) return { token: inserted, created: true }
  const [existing] = await sql<WaitpointRow[]>`
    select * from waitpoints
    where environment_id = ${input.environmentId} and idempotency_key = ${input.idempotencyKey}`
  if (!existing) throw new Error("token insert returned nothing and no token holds its key")
  return { token: existing, created: false }
}

/** The body of a token create, as the row it makes (timeout resolved against `now`). */
export function tokenInput(
  environmentId: string,
  body: CreateTokenBody,
  now: Date,
  derivedKey: string | null = null,
): { input: Parameters<typeof createToken>[1] } | { issue: { path: string; message: string } } {
  const timeoutAt = tokenTimeoutAt(body.timeout, now)
  if (typeof timeoutAt === "string") return { issue: { path: "timeout", message: timeoutAt } }
  return {
    input: {
      environmentId,
      timeoutAt,
      idempotencyKey: body.idempotencyKey ?? derivedKey,
      tags: body.tags ?? [],
    },
  }
}

/** The wire shape; `url` is the completion endpoint under `apiUrl` (a path when unknown). */
export function toCreatedToken(token: WaitpointRow, apiUrl = ""): CreatedToken {
  return {
    id: token.id,
    url: `${apiUrl.replace(/\/+$/, "")}/api/v1/tokens/${token.id}/complete`,
    status: token.status,
    timeoutAt: token.timeoutAt ? token.timeoutAt.toISOString() : null,
    tags: token.tags,
    createdAt: token.createdAt.toISOString(),
  }
}
