import { expect } from "bun:test"
import type { Sql } from "@helmr/migrations/db"
import { type AuditResult, auditSlots } from "../src/testing/audit.ts"
import {
  type DispatcherProcess,
  spawnDispatcher,
  waitFor,
  waitHealthy,
} from "../src/testing/processes.ts"
import type { SeededInstance } from "../src/testing/seed.ts"

/** A set of real dispatcher processes sharing one configuration, for the fault tests. */
export class Fleet {
  readonly all: DispatcherProcess[] = []
  constructor(private readonly env: Record<string, string>) {}

  async spawn(): Promise<DispatcherProcess> {
    const p = await spawnDispatcher(this.env)
    this.all.push(p)
    await waitHealthy(p)
    return p
  }

  alive(): DispatcherProcess[] {
    return this.all.filter((p) => p.proc.exitCode === null && p.proc.signalCode === null)
  }

  /** SIGTERM every live process and expect each to drain and exit 0. */
  async stopAll(): Promise<void> {
    const live = this.alive()
    for (const p of live) p.signal("SIGCONT")
    for (const p of live) p.signal("SIGTERM")
    const codes = await Promise.all(live.map((p) => p.exited))
    codes.forEach((code, i) => {
      if (code !== 0)
        throw new Error(`dispatcher ${live[i]?.id} exited ${code}:\n${live[i]?.log()}`)
    })
  }

  /** Last resort in afterAll: nothing of ours keeps running. */
  killAll(): void {
    for (const p of this.alive()) p.signal("SIGKILL")
  }

  logs(): string {
    return this.all.map((p) => `--- ${p.id}\n${p.log().slice(-4_000)}`).join("\n")
  }
}

/** The standard fast settings of fault tests: short leases, frequent repair, small batches. */
export function fleetEnv(
  databaseUrl: string,
  valkeyUrl: string,
  prefix: string,
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    HELMR_DATABASE_URL: databaseUrl,
    HELMR_VALKEY_URL: valkeyUrl,
    HELMR_KEY_PREFIX: prefix,
    HELMR_SCHEDULE_LEASE_MS: "2000",
    HELMR_SCHEDULE_BATCH_SIZE: "25",
    HELMR_FIRE_CONCURRENCY: "2",
    HELMR_DISPATCHER_POLL_MS: "50",
    HELMR_REPAIR_INTERVAL_MS: "1000",
    HELMR_TIMER_POLL_MS: "1000",
    HELMR_FIRE_RETRY_BASE_MS: "200",
    HELMR_LOG_LEVEL: "warn",
    ...overrides,
  }
}

/** Seeds cursors spread evenly over `spreadMs`, starting `startInMs` from now. */
export function spreadSlots(count: number, startInMs: number, spreadMs: number): Date[] {
  const start = Date.now() + startInMs
  return Array.from(
    { length: count },
    (_, i) => new Date(start + Math.floor((i * spreadMs) / count)),
  )
}

/** Waits until every instance's cursor has moved past its first slot (each slot handled). */
export async function waitAllHandled(
  sql: Sql,
  instances: readonly SeededInstance[],
  timeoutMs: number,
  fleet?: Fleet,
): Promise<void> {
  const ids = instances.map((i) => i.instanceId)
  const firsts = instances.map((i) => i.nextFireAt.toISOString())
  let pending = -1
  await waitFor(
    async () => {
      const [row] = await sql<{ n: number }[]>`
        select count(*)::int as n
        from unnest(${ids}::text[], ${firsts}::timestamptz[]) as s(id, first)
        join schedule_instances si on si.id = s.id
        where si.active and si.next_fire_at <= s.first`
      pending = row?.n ?? -1
      return pending === 0
    },
    {
      timeoutMs,
      intervalMs: 250,
      describe: () => `${pending} instances not fired yet\n${fleet?.logs() ?? ""}`,
    },
  )
}

/** The audit every fault test ends with: no duplicate, nothing lost, nothing unexpected. */
export async function expectCleanAudit(
  sql: Sql,
  instances: readonly SeededInstance[],
  cron = "* * * * *",
): Promise<AuditResult> {
  const audit = await auditSlots(
    sql,
    instances.map((i) => ({
      instanceId: i.instanceId,
      cron,
      timezone: "UTC",
      firstSlot: i.nextFireAt,
    })),
  )
  expect({ duplicates: audit.duplicates, lost: audit.lost, unexpected: audit.unexpected }).toEqual({
    duplicates: [],
    lost: [],
    unexpected: [],
  })
  expect(audit.fired + audit.failed + audit.skipped).toBe(audit.expectedSlots)
  return audit
}

/** Every queued run in Postgres is in the run queue (repair put back what a crash dropped). */
export async function waitRunsEnqueued(
  sql: Sql,
  queued: (ids: string[]) => Promise<(string | null)[]>,
  timeoutMs = 20_000,
): Promise<number> {
  let missing = -1
  let total = 0
  await waitFor(
    async () => {
      const runs = await sql<{ id: string }[]>`select id from runs where status = 'queued'`
      total = runs.length
      if (runs.length === 0) return true
      const scores = await queued(runs.map((r) => r.id))
      missing = scores.filter((s) => s === null).length
      return missing === 0
    },
    { timeoutMs, describe: () => `${missing} queued runs missing from the run queue` },
  )
  return total
}
