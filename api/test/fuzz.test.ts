import { afterAll, beforeAll, expect, test } from "bun:test"
import { loadavg } from "node:os"
import { ErrorEnvelope } from "@helmr/sdk/contract"
import { buildUpload } from "../src/deployments/testing.ts"
import { type ApiFixture, startApiFixture } from "../src/test-fixtures.ts"
import { fuzzBody, fuzzPathParam, fuzzQuery } from "./fuzz/mutate.ts"
import { createRandom, fuzzSeed } from "./fuzz/random.ts"
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
  f = await startApiFixture("fuzz")
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

const VALID_BODIES: Record<string, unknown> = {
  "POST /api/v1/tasks/:taskId/trigger": {
    payload: { prNumber: 7 },
    options: { idempotencyKey: "fz-1", delay: "1s", ttl: "1h", tags: ["fuzz"], maxAttempts: 2 },
  },
  "POST /api/v1/schedules": {
    task: "hourly-report",
    cron: "0 * * * *",
    timezone: "Europe/Paris",
    deduplicationKey: "fuzz-sched-2",
    externalId: "ext-1",
    runOptions: { tags: ["a"], maxAttempts: 2 },
  },
  "PUT /api/v1/schedules/:idOrKey": {
    task: "hourly-report",
    cron: "15 * * * *",
    timezone: "UTC",
    externalId: null,
    runOptions: { tags: ["b"] },
  },
  "PUT /api/v1/secrets/:name": { value: "s3cret" },
  "POST /api/v1/tokens/:tokenId/complete": { data: { ok: true } },
  "POST /api/v1/deployments": buildUpload(
    [{ id: "review-pr" }, { id: "no-payload" }, { id: "hourly-report", cron: "0 * * * *" }],
    { salt: "fuzz" },
  ),
}

interface FuzzRequest {
  method: string
  path: string
  headers: Record<string, string>
  body?: string | Uint8Array<ArrayBuffer>
}

/** The explicit cases of issue 9, answered 500 before: each must be a 422 naming the field. */
const EXPLICIT: { request: Omit<FuzzRequest, "headers">; field: string }[] = [
  { request: { method: "GET", path: "/api/v1/runs/%00" }, field: "runId" },
  { request: { method: "DELETE", path: "/api/v1/schedules/%00" }, field: "idOrKey" },
  ...["\u0000", "\ud800", "\udfff"].flatMap((odd) => [
    {
      request: {
        method: "POST",
        path: "/api/v1/tasks/review-pr/trigger",
        body: JSON.stringify({ payload: { prNumber: 1, note: odd } }),
      },
      field: "payload.note",
    },
    {
      request: {
        method: "POST",
        path: "/api/v1/tasks/no-payload/trigger",
        body: JSON.stringify({ options: { tags: [`a${odd}`] } }),
      },
      field: "options.tags[0]",
    },
  ]),
]

function fuzzRequest(i: number, routes: { method: string; path: string }[]): FuzzRequest {
  const random = createRandom((SEED ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0)
  const route = routes[i % routes.length] as { method: string; path: string }
  const method = random.chance(0.06)
    ? random.pick(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
    : route.method
  let path = route.path.replace(/:(\w+)/g, (_m, name: string) =>
    fuzzPathParam(random, random.chance(0.5) ? (ids[name] ?? []) : []),
  )
  if (route.method === "GET" || random.chance(0.1)) path += fuzzQuery(random, ["lastEventId"])
  const key = f.api.apiKeys.dev ?? ""
  const headers: Record<string, string> = {
    authorization: random.chance(0.85)
      ? `Bearer ${key}`
      : random.pick([
          "",
          "Bearer",
          `Bearer ${key}\u00ff`,
          `bearer  ${key}`,
          `Basic ${key}`,
          `Bearer ${"k".repeat(5000)}`,
          `Bearer ${f.api.apiKeys.staging}`,
          "Bearer \u00e9\u00ff\u0080",
        ]),
    "content-type": random.chance(0.85)
      ? "application/json"
      : random.pick([
          "text/plain",
          "",
          "application/json; charset=utf-16",
          "application/x-www-form-urlencoded",
          "multipart/form-data",
          "application/problem+json",
        ]),
  }
  if (random.chance(0.1))
    headers["x-request-id"] = random.pick(["\u00ff", "x".repeat(500), "a b", "ok-1"])
  if (random.chance(0.2)) {
    headers["last-event-id"] = random.pick([
      "-1",
      "1e3",
      "99999999999999999999",
      "\u00ff",
      "",
      "0",
      "abc",
    ])
  }
  if (random.chance(0.02)) headers["content-length"] = random.pick(["99999999999", "-1", "abc"])
  if (method === "GET" || method === "HEAD") return { method, path, headers }
  const valid = VALID_BODIES[`${route.method} ${route.path}`] ?? {}
  return {
    method,
    path,
    headers,
    body: random.chance(0.03) ? "x".repeat(1_100_000) : fuzzBody(random, valid),
  }
}

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
  let sent = 0
  for (let i = 0; sent < REQUESTS && failures.length < 20; i++) {
    const request = fuzzRequest(i, routes)
    const res = await send(request)
    if (!res) continue
    sent++
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
    const route = routes[i % routes.length] as { method: string; path: string }
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
      if (request.method !== "HEAD" && !isEnvelope(res.text)) {
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
