import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { randomBytes } from "node:crypto"
import { join } from "node:path"
import { auditSlots } from "@helmr/dispatcher/testing/audit"
import {
  type PrivatePostgres,
  type PrivateValkey,
  startPrivatePostgres,
  startPrivateValkey,
} from "@helmr/dispatcher/testing/private-services"
import { bootstrapProject } from "@helmr/migrations/bootstrap"
import { insertDeployment } from "@helmr/runner/testing/deployments"
import { BASE_IMAGE, basicBundle, basicManifest } from "@helmr/runner/testing/fixtures"
import { type PrivateDockerd, startPrivateDockerd } from "@helmr/runner/testing/private-dockerd"
import type { Subprocess } from "bun"

// The whole stack under faults, outside compose: an API, a dispatcher and a runner process on a
// private Postgres cluster, a private Valkey and a private Docker engine (so each may be restarted
// without touching anyone else's). Under steady triggers and every-minute schedules, rounds of
// kill -9 on api, dispatcher and runner in turn, plus one Postgres restart, one Valkey FLUSHALL and
// one dockerd restart. The audit: 0 lost, 0 duplicate, 0 stuck runs, 0 orphan containers, every
// slot accounted for; the recovery time of each fault is printed.
// CI runs a fast mode; HELMR_WHOLE_STACK_FULL=1 runs the size (20 rounds, 200 schedules).

const FULL = process.env.HELMR_WHOLE_STACK_FULL === "1"
const ROUNDS = FULL ? 20 : 4
const SCHEDULES = FULL ? 200 : 10
const ROOT = join(import.meta.dir, "..")
const tag = randomBytes(3).toString("hex")

let pg: PrivatePostgres
let vk: PrivateValkey
let engine: PrivateDockerd
let apiKey = ""
let apiPort = 0
const env: Record<string, string> = {}
const procs = new Map<string, Subprocess>()

function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() })
  const port = probe.port ?? 0
  probe.stop(true)
  return port
}

function start(service: "api" | "dispatcher" | "runner"): void {
  const proc = Bun.spawn(["bun", join(ROOT, service, "main.ts")], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdout: "ignore",
    stderr: process.env.HELMR_TEST_LOG ? "inherit" : "ignore",
  })
  procs.set(service, proc)
}

async function kill9(service: string): Promise<void> {
  const proc = procs.get(service)
  proc?.kill("SIGKILL")
  await proc?.exited
}

async function healthy(url: string): Promise<boolean> {
  return fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
    (r) => r.ok,
    () => false,
  )
}

/** Waits until a fresh trigger's run succeeds: the whole path works again. */
async function recovered(label: string): Promise<number> {
  const t0 = Date.now()
  const id = await trigger(`probe-${label}`)
  for (;;) {
    const row = await pg.sql<{ status: string }[]>`select status from runs where id = ${id}`.catch(
      () => [],
    )
    if (row[0]?.status === "succeeded") return Date.now() - t0
    if (Date.now() - t0 > 180_000) throw new Error(`${label}: no run succeeded in 180 s`)
    await Bun.sleep(100)
  }
}

const triggered = new Map<string, string>()
async function trigger(key: string): Promise<string> {
  const deadline = Date.now() + 180_000
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${apiPort}/api/v1/tasks/hello/trigger`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        payload: { name: key, delayMs: 300 },
        options: { idempotencyKey: key, maxAttempts: 5 },
      }),
      signal: AbortSignal.timeout(5_000),
    }).catch(() => null)
    if (res && (res.status === 201 || res.status === 200)) {
      const id = ((await res.json()) as { id: string }).id
      const earlier = triggered.get(key)
      if (earlier && earlier !== id) throw new Error(`${key}: two runs, ${earlier} and ${id}`)
      triggered.set(key, id)
      return id
    }
    if (res && res.status < 500 && res.status !== 429) {
      throw new Error(`trigger ${key}: ${res.status} ${await res.text()}`)
    }
    if (Date.now() > deadline) throw new Error(`trigger ${key}: no answer for 180 s`)
    await Bun.sleep(300)
  }
}

beforeAll(async () => {
  ;[pg, vk] = await Promise.all([startPrivatePostgres(), startPrivateValkey()])
  engine = await startPrivateDockerd(`ws${tag}`, [BASE_IMAGE])
  apiPort = freePort()
  Object.assign(env, {
    HELMR_DATABASE_URL: pg.url,
    HELMR_VALKEY_URL: vk.url,
    HELMR_KEY_PREFIX: `ws${tag}`,
    HELMR_ENCRYPTION_KEY: randomBytes(32).toString("hex"),
    HELMR_MIGRATE_ON_START: "false",
    HELMR_LOG_LEVEL: "warn",
    HELMR_API_PORT: String(apiPort),
    HELMR_API_HOST: "127.0.0.1",
    HELMR_DISPATCHER_PORT: String(freePort()),
    HELMR_RUNNER_PORT: String(freePort()),
    HELMR_RUNNER_ID: `ws-${tag}`,
    HELMR_RUNNER_CONCURRENCY: "6",
    HELMR_RUNNER_LEASE_MS: "4000",
    HELMR_RUNNER_SWEEP_MS: "1000",
    HELMR_RETRY_BASE_MS: "200",
    HELMR_RETRY_MAX_MS: "1000",
    HELMR_DOCKER_SOCKET: engine.socket,
    HELMR_SANDBOX_NETWORK: `ws-${tag}`,
    HELMR_FIREWALL: "off",
    HELMR_IMAGE_REPO: `helmr-ws/${tag}`,
    HELMR_BUILD_PULL: "never",
  })
  const boot = await bootstrapProject(pg.sql, { slug: `ws-${tag}`, environments: ["dev"] })
  const dev = boot.environments[0]!
  apiKey = dev.apiKey ?? ""
  const manifest = basicManifest()
  manifest.tasks.push({
    id: "tick",
    kind: "scheduled",
    exportName: "tick",
    sandbox: "sb",
    payloadSchema: null,
  })
  const deploymentId = await insertDeployment(pg.sql, {
    projectId: boot.projectId,
    environmentId: dev.id,
    bundle: await basicBundle(),
    manifest,
  })
  await pg.sql`update environments set current_deployment_id = ${deploymentId} where id = ${dev.id}`
  for (const service of ["api", "dispatcher", "runner"] as const) start(service)
  const deadline = Date.now() + 60_000
  while (!(await healthy(`http://127.0.0.1:${apiPort}/healthz`))) {
    if (Date.now() > deadline) throw new Error("the API did not come up")
    await Bun.sleep(200)
  }
}, 300_000)

afterAll(async () => {
  for (const service of procs.keys()) await kill9(service)
  await engine?.stop({ wipe: true })
  await vk?.stop()
  await pg?.destroy()
}, 120_000)

describe("the whole stack under faults", () => {
  test(`${ROUNDS} rounds of kill -9, a Postgres restart, a FLUSHALL, a dockerd restart`, async () => {
    // Every-minute schedules, created through the API as a user would.
    const schedules: string[] = []
    for (let i = 0; i < SCHEDULES; i++) {
      const res = await fetch(`http://127.0.0.1:${apiPort}/api/v1/schedules`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ task: "tick", cron: "* * * * *", deduplicationKey: `every-${i}` }),
      })
      expect(res.status).toBe(201)
      schedules.push(((await res.json()) as { id: string }).id)
    }
    const startedAt = new Date()
    console.log(`whole stack: first recovery ${await recovered("warm-up")} ms (cold image build)`)

    let stop = false
    let n = 0
    const load = (async () => {
      while (!stop) {
        await trigger(`load-${n++}`)
        // Steady, below what one runner finishes per second here, so recovery is not queueing.
        await Bun.sleep(1_000)
      }
    })()

    const recovery: Record<string, number[]> = {}
    const note = (fault: string, ms: number) => {
      recovery[fault] = [...(recovery[fault] ?? []), ms]
    }
    for (let round = 0; round < ROUNDS; round++) {
      const service = (["api", "dispatcher", "runner"] as const)[round % 3]!
      await kill9(service)
      await Bun.sleep(500)
      start(service)
      note(`kill -9 ${service}`, await recovered(`round-${round}`))
    }
    await pg.stop()
    await Bun.sleep(2_000)
    await pg.start()
    note("postgres restart", await recovered("pg"))
    await vk.client.flushall()
    note("valkey flushall", await recovered("flushall"))
    await engine.stop()
    await Bun.sleep(1_000)
    await engine.start()
    note("dockerd restart", await recovered("dockerd"))

    // Cross at least two more minutes with everything up, so every schedule fires after the faults.
    const settle = Date.now() + (FULL ? 150_000 : 125_000)
    while (Date.now() < settle) await Bun.sleep(1_000)
    stop = true
    await load
    console.log(
      `whole stack recovery (ms): ${JSON.stringify(recovery)}; ${triggered.size} triggers`,
    )

    // 0 lost, 0 duplicate: every acknowledged key has exactly its one run.
    const keys = [...triggered.keys()]
    const rows = await pg.sql<{ idempotencyKey: string; id: string }[]>`
      select idempotency_key, id from runs where idempotency_key = any(${keys}::text[])`
    expect(rows.length).toBe(keys.length)
    for (const row of rows) expect(triggered.get(row.idempotencyKey)).toBe(row.id)

    // 0 stuck: every run ends (scheduled ones included), within a bounded time.
    const deadline = Date.now() + 240_000
    let open: { id: string; status: string }[] = []
    do {
      open = await pg.sql<{ id: string; status: string }[]>`
        select id, status from runs where status in ('queued', 'starting', 'running', 'waiting')
          and (available_at is null or available_at <= now())`
      if (open.length === 0) break
      await Bun.sleep(1_000)
    } while (Date.now() < deadline)
    if (open.length > 0) {
      const stuck = open.slice(0, 5).map((r) => r.id)
      const events = await pg.sql`select run_id, type, message, data from run_events
        where run_id = any(${stuck}::text[]) order by id`
      console.log(`stuck runs (first 5 of ${open.length}): ${JSON.stringify(events, null, 1)}`)
    }
    expect([...open]).toEqual([])
    const bad = await pg.sql<{ status: string; count: number }[]>`
      select status, count(*)::int as count from runs where status <> 'succeeded' group by 1`
    expect([...bad]).toEqual([])

    // 0 orphan containers: no sandbox left on the engine once its run ended.
    const left = await engine.docker.listContainers({
      all: true,
      filters: { label: ["helmr.kind=sandbox"] },
    })
    expect(left.map((c) => c.Names)).toEqual([])

    // Every slot accounted for: fired once, failed, or inside a skipped range.
    const instances = await pg.sql<{ id: string }[]>`
      select i.id from schedule_instances i where i.schedule_id = any(${schedules}::text[])`
    const firstSlot = new Date(Math.ceil(startedAt.getTime() / 60_000) * 60_000)
    const audit = await auditSlots(
      pg.sql,
      instances.map((i) => ({ instanceId: i.id, cron: "* * * * *", timezone: "UTC", firstSlot })),
    )
    console.log(`whole stack slots: ${JSON.stringify({ ...audit, lost: audit.lost.length })}`)
    expect(audit.duplicates).toEqual([])
    expect(audit.lost).toEqual([])
    expect(audit.unexpected).toEqual([])
    expect(audit.fired).toBeGreaterThanOrEqual(SCHEDULES * 2)
  }, 1_800_000)
})
