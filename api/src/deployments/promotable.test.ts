import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Deployment, DeploymentBuildLog, ErrorEnvelope } from "@helmr/sdk/contract"
import { startTestApi, type TestApi } from "../testing.ts"
import { buildUpload } from "./testing.ts"

/**
 * Promotion against the deployment's build state and the environment's secrets, through the
 * routes. No runner here: the build states are written as a runner leaves them
 * (test/deploy-builds-e2e.test.ts builds for real).
 */
let api: TestApi
beforeAll(async () => {
  api = await startTestApi("h12promotable")
})
afterAll(() => api.close())

const call = (method: string, path: string, body?: unknown, env = "dev") =>
  api.app.request(`/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${api.apiKeys[env]}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })

async function upload(salt: string, secrets: string[] = []): Promise<Deployment> {
  const body = buildUpload([{ id: "task-a" }, { id: "task-b" }], { salt })
  body.manifest.tasks = body.manifest.tasks.map((t, i) => ({
    ...t,
    secrets: secrets.map((name) => ({ name, env: `${name}_${i}` })),
  }))
  const res = await call("POST", "/deployments", body)
  expect(res.status).toBe(201)
  return Deployment.parse(await res.json())
}

async function refusal(res: Response, code: string) {
  expect(res.status).toBe(409)
  const { error } = ErrorEnvelope.parse(await res.json())
  expect(error.code).toBe(code as never)
  return error
}

const setBuild = (id: string, status: string, error: unknown = null) =>
  api.db.sql`update deployments set build_status = ${status},
    build_error = ${error === null ? null : api.db.sql.json(error as never)} where id = ${id}`

describe("promotion waits for the build", () => {
  test("a new upload is pending and cannot be promoted until its build is ready", async () => {
    const d = await upload("pending")
    expect(d.build).toEqual({
      status: "pending",
      attempts: 0,
      startedAt: null,
      finishedAt: null,
      error: null,
    })
    const pending = await refusal(
      await call("POST", `/deployments/${d.id}/promote`),
      "build_not_ready",
    )
    expect(pending.message).toContain("its build is pending")
    await setBuild(d.id, "building")
    const building = await refusal(
      await call("POST", `/deployments/${d.id}/promote`, {}),
      "build_not_ready",
    )
    expect(building.details).toMatchObject({ build: { status: "building" } })
    await setBuild(d.id, "ready")
    expect((await call("POST", `/deployments/${d.id}/promote`, {})).status).toBe(200)
  })

  test("a failed build is refused naming the image, the step and its output", async () => {
    const d = await upload("failed")
    const failure = {
      message: "exit code: 1",
      image: "img",
      step: '[2/2] RUN ["sh","-c","exit 1"]',
      output: "npm ERR! missing script\n",
    }
    await setBuild(d.id, "failed", failure)
    const error = await refusal(await call("POST", `/deployments/${d.id}/promote`), "build_failed")
    expect(error.message).toBe(
      `deployment ${d.id} cannot be promoted: its build failed at step [2/2] RUN ["sh","-c","exit 1"] (image img): exit code: 1\nnpm ERR! missing script`,
    )
    expect(error.details).toMatchObject({ build: { status: "failed", error: failure } })
    const read = Deployment.parse(await (await call("GET", `/deployments/${d.id}`)).json())
    expect(read.build.error).toEqual(failure)

    // The same content again retries the build: pending, with a fresh log.
    await api.db.sql`update deployments set build_attempts = 1 where id = ${d.id}`
    await api.db.sql`insert into deployment_build_events (deployment_id, attempt, level, message)
      values (${d.id}, 1, 'error', 'build failed: exit code: 1')`
    const body = buildUpload([{ id: "task-a" }, { id: "task-b" }], { salt: "failed" })
    const again = await call("POST", "/deployments", body)
    expect(again.status).toBe(200)
    const retried = Deployment.parse(await again.json())
    expect(retried.id).toBe(d.id)
    expect(retried.build).toMatchObject({ status: "pending", attempts: 0, error: null })
    const log = DeploymentBuildLog.parse(
      await (await call("GET", `/deployments/${d.id}/build`)).json(),
    )
    expect(log.events).toEqual([])
  })
})

describe("missing secrets", () => {
  test("are named on the deployment and refuse promotion unless allowed", async () => {
    await call("PUT", "/secrets/HAVE_IT", { value: "x" })
    const d = await upload("secrets", ["ZETA", "HAVE_IT", "ALPHA"])
    expect(d.missingSecrets).toEqual(["ALPHA", "ZETA"])
    await setBuild(d.id, "ready")
    const error = await refusal(
      await call("POST", `/deployments/${d.id}/promote`, {}),
      "missing_secrets",
    )
    expect(error.message).toContain("declares secrets not set in environment dev: ALPHA, ZETA")
    expect(error.details).toEqual({ missingSecrets: ["ALPHA", "ZETA"] })
    const list = await (await call("GET", "/deployments")).json()
    expect(list.data[0].missingSecrets).toEqual(["ALPHA", "ZETA"])

    const bad = await call("POST", `/deployments/${d.id}/promote`, { allowMissingSecrets: "yes" })
    expect(bad.status).toBe(422)
    const allowed = await call("POST", `/deployments/${d.id}/promote`, {
      allowMissingSecrets: true,
    })
    expect(allowed.status).toBe(200)
    await call("PUT", "/secrets/ALPHA", { value: "a" })
    await call("PUT", "/secrets/ZETA", { value: "z" })
    const now = Deployment.parse(await (await call("GET", `/deployments/${d.id}`)).json())
    expect(now.missingSecrets).toEqual([])
  })
})

describe("GET /deployments/{id}/build", () => {
  test("pages the log by event id; bad cursors are 422, another environment's 404", async () => {
    const d = await upload("log")
    const [row] = await api.db.sql<{ attempts: number }[]>`
      update deployments set build_status = 'building', build_attempts = 1
      where id = ${d.id} returning build_attempts as attempts`
    expect(row?.attempts).toBe(1)
    for (const message of ["one", "two", "three"]) {
      await api.db.sql`insert into deployment_build_events (deployment_id, attempt, level, message)
        values (${d.id}, 1, 'info', ${message})`
    }
    const first = DeploymentBuildLog.parse(
      await (await call("GET", `/deployments/${d.id}/build?limit=2`)).json(),
    )
    expect(first.build.status).toBe("building")
    expect(first.events.map((e) => e.message)).toEqual(["one", "two"])
    const rest = DeploymentBuildLog.parse(
      await (await call("GET", `/deployments/${d.id}/build?after=${first.next}`)).json(),
    )
    expect(rest.events.map((e) => e.message)).toEqual(["three"])
    const end = DeploymentBuildLog.parse(
      await (await call("GET", `/deployments/${d.id}/build?after=${rest.next}`)).json(),
    )
    expect(end).toMatchObject({ events: [], next: rest.next })

    expect((await call("GET", `/deployments/${d.id}/build?after=-1`)).status).toBe(422)
    expect((await call("GET", `/deployments/${d.id}/build?limit=0`)).status).toBe(422)
    expect((await call("GET", `/deployments/${d.id}/build`, undefined, "prod")).status).toBe(404)
    expect((await call("GET", "/deployments/dep_nope/build")).status).toBe(404)
  })
})
