import { afterAll, beforeAll, expect, test } from "bun:test"
import { loadavg } from "node:os"
import { ErrorEnvelope } from "@helmr/sdk/contract"
import { type ApiFixture, startApiFixture } from "../src/test-fixtures.ts"
import { fuzzSeed } from "./fuzz/random.ts"
import {
  EXPLICIT,
  FUZZ_ORIGIN,
  type FuzzRequest,
  fuzzRequest,
  type Route,
} from "./fuzz/requests.ts"
import { diffSnapshots, type StateSnapshot, stateSnapshotter } from "./fuzz/state.ts"
import { ODD_STRINGS } from "./fuzz/values.ts"

/**
 * Seeded fuzzing of every route and method of the real app, in process. Asserts no answer is a
 * 5xx, and that every refused (4xx) request left every table and every Valkey key of the test as
 * it found them (checked around each request, so a failure names its request). The seed is
 * printed; `HELMR_FUZZ_SEED=<seed>` replays a run, `HELMR_FUZZ_REQUESTS` sizes it.
 */

const SEED = fuzzSeed()
const REQUESTS = Math.max(2000, Number(process.env.HELMR_FUZZ_REQUESTS ?? 2000))

let f: ApiFixture
let snapshot: () => Promise<StateSnapshot>
const ids: Record<string, string[]> = {}

beforeAll(async () => {
  console.log(`fuzz seed ${SEED} (replay: HELMR_FUZZ_SEED=${SEED} bun test api/test/fuzz.test.ts)`)
  f = await startApiFixture("fuzz", { overrides: { corsOrigins: [FUZZ_ORIGIN] } })
  const dev = f.clients.dev
  const run = await dev.runs.trigger("review-pr", { prNumber: 1 }, { tags: ["fuzz"] })
  const other = await dev.runs.trigger("no-payload")
  const schedule = await dev.schedules.create({
    task: "hourly-report",
    cron: "0 * * * *",
    deduplicationKey: "fuzz-sched",
  })
  Object.assign(ids, {
    taskId: ["review-pr", "no-payload", "nightly-maintenance", "hourly-report", "missing-task"],
    runId: [run.id, other.id, "run_missing"],
    idOrKey: [schedule.id, "fuzz-sched", "missing-sched"],
    id: [f.deploymentIds.dev ?? "dep_missing", "dep_missing"],
    name: ["FUZZ_SECRET", "OTHER_SECRET"],
    tokenId: ["tok_00000000000000000000000000", "waitpoint_abcdefghijklmnopqrstuvwxyz"],
  })
  const { sql } = f.api.db
  snapshot = await stateSnapshotter(sql, f.api.valkey.valkey, f.api.valkey.prefix)
}, 60_000)
afterAll(async () => {
  await f?.close()
})

async function send(request: FuzzRequest): Promise<{ status: number; text: string } | null> {
  let req: Request
  try {
    req = new Request(`http://helmr.test${request.path}`, {
      method: request.method,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
    })
  } catch {
    return null // no client can send it (a header Fetch refuses): nothing to test
  }
  const aborter = new AbortController()
  const res = await f.api.app.fetch(new Request(req, { signal: aborter.signal }))
  if (res.headers.get("content-type")?.startsWith("text/event-stream")) {
    aborter.abort()
    await res.body?.cancel()
    return { status: res.status, text: "" }
  }
  return { status: res.status, text: await res.text() }
}

function isEnvelope(text: string): boolean {
  try {
    return ErrorEnvelope.safeParse(JSON.parse(text)).success
  } catch {
    return false
  }
}

const describeRequest = (i: number, r: FuzzRequest) =>
  `#${i} ${r.method} ${r.path.slice(0, 200)} body=${JSON.stringify(typeof r.body === "string" ? r.body.slice(0, 200) : r.body ? "<bytes>" : null)} headers=${JSON.stringify(r.headers).slice(0, 300)}`

test("fuzzing every route: no 5xx, and no refused request changes Postgres or Valkey", async () => {
  const routes = [
    ...new Map(
      f.api.app.routes
        .filter((r) => r.method !== "ALL")
        .map((r) => [`${r.method} ${r.path}`, { method: r.method, path: r.path }]),
    ).values(),
  ]
  const failures: string[] = []
  const key = f.api.apiKeys.dev ?? ""
  for (const { request, field } of EXPLICIT) {
    const res = await send({
      ...request,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    })
    const ok = res?.status === 422 && isEnvelope(res.text) && res.text.includes(`invalid ${field}:`)
    if (!ok) {
      failures.push(
        `explicit case ${request.method} ${request.path} ${request.body ?? ""}: ${res?.status} ${res?.text.slice(0, 300)}`,
      )
    }
  }
  const started = performance.now()
  const statuses = new Map<number, number>()
  const perRoute = new Map<string, number>()
  let before = await snapshot()
  // The state check must see writes to be worth anything: a trigger writes rows and a queue entry.
  await f.clients.dev.runs.trigger("no-payload")
  const written = diffSnapshots(before, await snapshot())
  expect(written.some((change) => change.startsWith("table runs"))).toBe(true)
  expect(written.some((change) => change.startsWith("valkey "))).toBe(true)
  before = await snapshot()
  let sent = 0
  for (let i = 0; sent < REQUESTS && failures.length < 20; i++) {
    const request = fuzzRequest(SEED, i, routes, { ids, keys: f.api.apiKeys })
    const res = await send(request)
    if (!res) continue
    sent++
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
    const route = routes[i % routes.length] as Route
    perRoute.set(
      `${route.method} ${route.path}`,
      (perRoute.get(`${route.method} ${route.path}`) ?? 0) + 1,
    )
    const after = await snapshot()
    const what = describeRequest(i, request)
    if (res.status >= 500) failures.push(`${res.status} ${what} -> ${res.text.slice(0, 200)}`)
    else if (res.status >= 400) {
      const changes = diffSnapshots(before, after)
      if (changes.length > 0) failures.push(`${res.status} changed ${changes.join("; ")} ${what}`)
      // The JSON API answers with the envelope; the dashboard's pages answer with an HTML page.
      if (request.method !== "HEAD" && route.path.startsWith("/api/") && !isEnvelope(res.text)) {
        failures.push(
          `${res.status} without the error envelope: ${what} -> ${res.text.slice(0, 200)}`,
        )
      }
    }
    before = after
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  const byStatus = [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}:${n}`)
  console.log(
    `fuzz seed ${SEED}: ${sent} requests over ${routes.length} routes in ${seconds}s (load ${loadavg()[0]?.toFixed(2)}); status:count ${byStatus.join(" ")}`,
  )
  if (failures.length > 0) console.log(failures.join("\n"))
  expect(failures).toEqual([])
  expect(sent).toBeGreaterThanOrEqual(REQUESTS)
  for (const route of routes)
    expect(perRoute.get(`${route.method} ${route.path}`) ?? 0).toBeGreaterThan(0)
}, 300_000)

// Keeps the odd strings list honest: the explicit cases above rely on these two being in it.
test("the odd values include NUL and lone surrogates", () => {
  expect(ODD_STRINGS).toContain("\u0000")
  expect(ODD_STRINGS).toContain("\ud800")
})
