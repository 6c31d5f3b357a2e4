import { createClient, type HelmrClient } from "@helmr/sdk"
import { z } from "zod"
import { insertTestDeployment, startTestApi, type TestApi, testManifest } from "./testing.ts"

/** The payload schema of `review-pr`, as the deploy step would store it. */
export const reviewPayload = z.object({ prNumber: z.number().int().positive() })

/** Tasks every API test deploys: one of each kind the trigger rules distinguish. */
export const FIXTURE_TASKS = testManifest([
  { id: "review-pr", payloadSchema: z.toJSONSchema(reviewPayload) as Record<string, unknown> },
  { id: "no-payload", payloadSchema: null, maxDuration: 60 },
  {
    id: "nightly-maintenance",
    kind: "scheduled",
    payloadSchema: null,
    cron: { pattern: "0 2 * * *", timezone: "UTC" },
  },
  { id: "hourly-report", kind: "scheduled", payloadSchema: null },
])

export interface ApiFixture {
  api: TestApi
  url: string
  /** A client per environment slug. */
  clients: Record<"dev" | "staging" | "prod", HelmrClient>
  env: (slug: string) => { id: string; slug: string }
  deploymentIds: Record<string, string>
  close(): Promise<void>
}

/**
 * The real app served on a loopback port, with the fixture tasks promoted in `deployTo`
 * environments (default dev only), and a real client per environment.
 */
export async function startApiFixture(
  label: string,
  options: { deployTo?: string[]; overrides?: Parameters<typeof startTestApi>[1] } = {},
): Promise<ApiFixture> {
  const api = await startTestApi(label, options.overrides)
  const server = api.listen()
  const env = (slug: string) => {
    const found = api.project.environments.find((e) => e.slug === slug)
    if (!found) throw new Error(`no environment ${slug}`)
    return { id: found.id, slug: found.slug }
  }
  const deploymentIds: Record<string, string> = {}
  for (const slug of options.deployTo ?? ["dev"]) {
    deploymentIds[slug] = await insertTestDeployment(api.db.sql, {
      environmentId: env(slug).id,
      projectId: api.project.projectId,
      manifest: FIXTURE_TASKS,
    })
  }
  const client = (slug: string) => createClient({ apiUrl: server.url, apiKey: api.apiKeys[slug]! })
  return {
    api,
    url: server.url,
    clients: { dev: client("dev"), staging: client("staging"), prod: client("prod") },
    env,
    deploymentIds,
    close: () => api.close(),
  }
}

/** Awaits a promise expected to reject with the client's ApiError and returns that error. */
export async function expectApiError(promise: Promise<unknown>): Promise<{
  status: number
  code: string
  message: string
  details?: unknown
  retryAfter?: number
}> {
  try {
    await promise
  } catch (error) {
    if (error && typeof error === "object" && "status" in error && "code" in error) {
      return error as never
    }
    throw error
  }
  throw new Error("expected the request to fail")
}

/** Polls `check` until it returns a value other than undefined (generous for loaded machines). */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error("condition not met in time")
    await new Promise((r) => setTimeout(r, 50))
  }
}
