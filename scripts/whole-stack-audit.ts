/**
 * The whole-stack fault test's rule for runs that did not succeed: each is explained only when
 * every one of its attempts ended inside a fault's window (from the fault until the stack served
 * a run again, plus a lease's worth of slack for the loss to be noticed) and the run used all its
 * attempts. Anything else (a failure outside the faults, a run given up with attempts left) is a
 * bug to look at. Pure: the test passes what it read from Postgres.
 */

export interface FaultWindow {
  label: string
  from: Date
  to: Date
}

export interface RunTrail {
  id: string
  taskId: string
  status: string
  attempt: number
  maxAttempts: number
  error: { name?: string; message?: string } | null
  /** The run's transition events, oldest first. */
  events: { at: string | Date; type: string; data: Record<string, unknown> | null }[]
}

export interface Verdict {
  id: string
  status: string
  explained: boolean
  why: string
}

const ACTIVE = new Set(["starting", "running", "waiting"])

/** An attempt ended: the run left an active state for anything but another active state. */
function attemptEnds(trail: RunTrail): { at: number; to: string; cause: string }[] {
  const ends: { at: number; to: string; cause: string }[] = []
  for (const event of trail.events) {
    const from = String(event.data?.from ?? "")
    const to = String(event.data?.to ?? "")
    if (!ACTIVE.has(from) || ACTIVE.has(to)) continue
    const error = event.data?.error as { name?: string; message?: string } | undefined
    const cause = [event.data?.cause, error?.name, error?.message].filter(Boolean).join(": ")
    ends.push({ at: new Date(event.at).getTime(), to, cause: cause || to })
  }
  return ends
}

export function explainUnsucceeded(
  trails: readonly RunTrail[],
  faults: readonly FaultWindow[],
  slackMs = 15_000,
): Verdict[] {
  return trails.map((trail) => {
    const ends = attemptEnds(trail)
    const faultAt = (t: number) =>
      faults.find((f) => f.from.getTime() - 1_000 <= t && t <= f.to.getTime() + slackMs)
    const outside = ends.filter((e) => !faultAt(e.at))
    const causes = ends
      .map((e) => `${e.to} (${e.cause}) during ${faultAt(e.at)?.label ?? "no fault"}`)
      .join("; ")
    const why = `attempt ${trail.attempt}/${trail.maxAttempts}: ${causes || "no attempt ended"}`
    if (trail.status === "canceled" || trail.status === "expired") {
      return { id: trail.id, status: trail.status, explained: false, why }
    }
    const explained = ends.length > 0 && outside.length === 0 && trail.attempt >= trail.maxAttempts
    return { id: trail.id, status: trail.status, explained, why }
  })
}
