import { buildUpload } from "../../src/deployments/testing.ts"
import { fuzzBody, fuzzPathParam, fuzzQuery } from "./mutate.ts"
import { createRandom } from "./random.ts"

/** The origin the fuzz fixture allows (`HELMR_CORS_ORIGINS`). */
export const FUZZ_ORIGIN = "https://fuzz.example"

/** A valid body per route (`METHOD path`), the starting point of its mutations; others get `{}`. */
const VALID_BODIES: Record<string, unknown> = {
  "POST /api/v1/tasks/:taskId/trigger": {
    payload: { prNumber: 7 },
    options: { idempotencyKey: "fz-1", delay: "1s", ttl: "1h", tags: ["fuzz"], maxAttempts: 2 },
  },
  "POST /api/v1/tasks/:taskId/batch": {
    items: [
      { payload: { prNumber: 7 }, options: { idempotencyKey: "fz-b1", concurrencyKey: "org_1" } },
      {
        payload: { prNumber: 8 },
        options: { queue: { concurrencyLimit: 2 }, retry: { maxAttempts: 2 } },
      },
    ],
  },
  "POST /api/v1/batch": {
    items: [
      { task: "review-pr", payload: { prNumber: 9 }, options: { tags: ["fuzz"] } },
      { task: "no-payload", options: { retry: { minDelay: "1s", maxDelay: "1m" } } },
    ],
  },
  "POST /api/v1/schedules": {
    task: "hourly-report",
    cron: "0 * * * *",
    timezone: "Europe/Paris",
    deduplicationKey: "fuzz-sched-2",
    externalId: "ext-1",
    runOptions: { tags: ["a"], maxAttempts: 2, ttl: "10m", maxDuration: 60 },
    overlap: "bufferOne",
    catchupWindow: "5m",
    pauseAfterFailures: 3,
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

export interface FuzzRequest {
  method: string
  path: string
  headers: Record<string, string>
  body?: string | Uint8Array<ArrayBuffer>
}

/** The explicit cases of issue 9, answered 500 before: each must be a 422 naming the field. */
export const EXPLICIT: { request: Omit<FuzzRequest, "headers">; field: string }[] = [
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

/** What a request may name: ids that exist per path parameter, and API keys per environment. */
export interface FuzzTargets {
  ids: Record<string, string[]>
  keys: Record<string, string>
}

export interface Route {
  method: string
  path: string
}

/**
 * Request `i` of the run seeded `seed`: its own generator, so any one request can be rebuilt.
 * Routes are taken in turn, so each gets its share.
 */
export function fuzzRequest(
  seed: number,
  i: number,
  routes: Route[],
  targets: FuzzTargets,
): FuzzRequest {
  const random = createRandom((seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0)
  const { ids } = targets
  const route = routes[i % routes.length] as Route
  const method = random.chance(0.06)
    ? random.pick(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
    : route.method
  let path = route.path.replace(/:(\w+)/g, (_m, name: string) =>
    fuzzPathParam(random, random.chance(0.5) ? (ids[name] ?? []) : []),
  )
  if (route.method === "GET" || random.chance(0.1)) path += fuzzQuery(random, ["lastEventId"])
  const key = targets.keys.dev ?? ""
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
          `Bearer ${targets.keys.staging}`,
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
  // CORS is on in the fuzz fixture: the allowed origin, others and broken ones, preflights too.
  if (random.chance(0.15)) {
    headers.origin = random.pick([FUZZ_ORIGIN, "https://evil.example", "null", "\u00ff", ""])
    if (random.chance(0.5))
      headers["access-control-request-method"] = random.pick(["POST", "GET", "\u00ff"])
  }
  if (method === "GET" || method === "HEAD") return { method, path, headers }
  const valid = VALID_BODIES[`${route.method} ${route.path}`] ?? {}
  return {
    method,
    path,
    headers,
    body: random.chance(0.03)
      ? "x".repeat(1_100_000)
      : // Some valid bodies, so that writes succeed and later refusals are checked against them.
        random.chance(0.1)
        ? JSON.stringify(valid)
        : fuzzBody(random, valid),
  }
}
