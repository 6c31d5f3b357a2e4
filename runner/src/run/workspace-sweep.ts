import { FINAL_RUN_STATUSES } from "@helmr/migrations/rows"
import type { RunnerDeps } from "./deps.ts"

/**
 * Removes the workspaces of finished sessions: every run of the session is final and the last
 * ended more than `workspaceRetentionMs` ago. Workspaces of sessions this database does not know
 * (another Helmr on the same Docker host) are never touched. Runs at the runner's start and on
 * every sweep; with a retention of 0 the runner also removes a workspace as soon as the last run
 * of its session ends (finish.ts), and this sweep catches what a crash left behind.
 */
export async function sweepWorkspaces(deps: RunnerDeps): Promise<number> {
  if (deps.keepWorkspaces) return 0
  const sessions = await deps.driver.listWorkspaces()
  if (sessions.length === 0) return 0
  const done = await deps.sql<{ id: string }[]>`
    select s.id from sessions s
    where s.id = any(${sessions})
      and not exists (
        select 1 from runs r where r.session_id = s.id
          and r.status not in ${deps.sql(FINAL_RUN_STATUSES as string[])})
      and coalesce(
        (select max(coalesce(r.finished_at, r.updated_at)) from runs r where r.session_id = s.id),
        s.created_at
      ) <= now() - make_interval(secs => ${deps.workspaceRetentionMs / 1000})`
  let removed = 0
  for (const { id } of done) {
    try {
      await deps.driver.removeWorkspace(id)
      removed += 1
    } catch (error) {
      deps.logger.warn({ err: error, sessionId: id }, "removing a finished workspace failed")
    }
  }
  return removed
}
