import { createHash, randomBytes } from "node:crypto"
import { DEFAULT_ENVIRONMENTS } from "@helmr/migrations/bootstrap"
import type { Sql } from "@helmr/migrations/db"
import { newId } from "@helmr/migrations/ids"
import type { MemberEnvironment, OperatorSession } from "./dashboard-env.ts"

/** Sessions last 7 days from sign-in, and end after 12 hours without a request. */
export const SESSION_LIFETIME_MS = 7 * 24 * 3600 * 1000
export const SESSION_IDLE_MS = 12 * 3600 * 1000
// last_seen_at is written at most this often, so browsing does not write on every request.
const TOUCH_EVERY_MS = 60_000

const hashToken = (token: string) => createHash("sha256").update(token, "utf8").digest()

/** A new session; the returned token goes into the cookie and is never stored. */
export async function createOperatorSession(
  sql: Sql,
  operatorId: string,
  now: Date = new Date(),
): Promise<{ token: string; expiresAt: Date }> {
  const token = randomBytes(32).toString("base64url")
  const expiresAt = new Date(now.getTime() + SESSION_LIFETIME_MS)
  await sql`insert into operator_sessions (id, operator_id, token_hash, csrf_token, expires_at)
    values (${newId("opsess")}, ${operatorId}, ${hashToken(token)},
      ${randomBytes(24).toString("base64url")}, ${expiresAt})`
  // Expired sessions of this operator go when they sign in again.
  await sql`delete from operator_sessions where operator_id = ${operatorId} and expires_at < ${now}`
  return { token, expiresAt }
}

/** The live session of a cookie token, or null (unknown, expired or idle too long). */
export async function findOperatorSession(
  sql: Sql,
  token: string,
  now: Date = new Date(),
): Promise<OperatorSession | null> {
  if (token.length > 100) return null
  const idleSince = new Date(now.getTime() - SESSION_IDLE_MS)
  const [row] = await sql<(OperatorSession & { lastSeenAt: Date })[]>`
    select s.id as session_id, s.operator_id, o.email, s.csrf_token, s.last_seen_at
    from operator_sessions s join operators o on o.id = s.operator_id
    where s.token_hash = ${hashToken(token)} and s.expires_at > ${now}
      and s.last_seen_at > ${idleSince}`
  if (!row) return null
  if (now.getTime() - row.lastSeenAt.getTime() > TOUCH_EVERY_MS) {
    await sql`update operator_sessions set last_seen_at = ${now} where id = ${row.sessionId}`
  }
  const { lastSeenAt: _seen, ...session } = row
  return session
}

export async function endOperatorSession(sql: Sql, sessionId: string): Promise<void> {
  await sql`delete from operator_sessions where id = ${sessionId}`
}

/** "Sign out everywhere": every session of the operator, on every device. */
export async function endAllOperatorSessions(sql: Sql, operatorId: string): Promise<number> {
  const rows =
    await sql`delete from operator_sessions where operator_id = ${operatorId} returning id`
  return rows.length
}

export async function findOperatorByEmail(
  sql: Sql,
  email: string,
): Promise<{ id: string; passwordHash: string } | null> {
  const [row] = await sql<{ id: string; passwordHash: string }[]>`
    select id, password_hash from operators where email = ${email}`
  return row ?? null
}

/** The environments the operator is a member of, by project then environment creation. */
export async function listMemberEnvironments(
  sql: Sql,
  operatorId: string,
): Promise<MemberEnvironment[]> {
  return sql<MemberEnvironment[]>`
    select p.id as project_id, p.slug as project_slug, p.name as project_name,
      e.id as environment_id, e.slug as environment_slug, e.current_deployment_id
    from operator_memberships m
      join environments e on e.id = m.environment_id
      join projects p on p.id = e.project_id
    where m.operator_id = ${operatorId}
    order by p.slug, array_position(${[...DEFAULT_ENVIRONMENTS]}::text[], e.slug), e.slug`
}
