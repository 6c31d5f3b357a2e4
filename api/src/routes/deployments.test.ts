import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Buffer } from "node:buffer"
import {
  Deployment,
  DeploymentDetail,
  DeploymentList,
  ErrorEnvelope,
  type FieldIssue,
} from "@helmr/sdk/contract"
import { sha256Digest } from "../deployments/digest.ts"
import { buildUpload } from "../deployments/testing.ts"
import { startTestApi, type TestApi } from "../testing.ts"

let api: TestApi
beforeAll(async () => {
  api = await startTestApi("i3routes", { bodyLimitBytes: 4096, deployBodyLimitBytes: 256 * 1024 })
})
afterAll(() => api.close())

const headers = (env = "dev") => ({
  authorization: `Bearer ${api.apiKeys[env]}`,
  "content-type": "application/json",
})
const post = (path: string, body: unknown, env = "dev") =>
  api.app.request(`/api/v1${path}`, {
    method: "POST",
    headers: headers(env),
    body: typeof body === "string" ? body : JSON.stringify(body),
  })
const get = (path: string, env = "dev") =>
  api.app.request(`/api/v1${path}`, { headers: headers(env) })

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status)
  const body = ErrorEnvelope.parse(await res.json())
  expect(body.error.code).toBe(code as never)
  return body.error
}

describe("POST /deployments", () => {
  test("stores a new deployment (201) and returns the same one for the same content (200)", async () => {
    const upload = buildUpload([{ id: "task-a" }, { id: "nightly", cron: "0 2 * * *" }], {
      salt: "same",
    })
    const first = await post("/deployments", upload)
    expect(first.status).toBe(201)
    const created = Deployment.parse(await first.json())
    expect(created).toMatchObject({
      version: 1,
      current: false,
      promotedAt: null,
      environment: { slug: "dev" },
      tasks: [
        { id: "task-a", kind: "task" },
        { id: "nightly", kind: "scheduled", cron: { pattern: "0 2 * * *", timezone: "UTC" } },
      ],
    })
    const again = await post("/deployments", upload)
    expect(again.status).toBe(200)
    expect(Deployment.parse(await again.json()).id).toBe(created.id)

    const [{ count } = { count: -1 }] = await api.db.sql<
      { count: number }[]
    >`select count(*)::int as count from deployments`
    expect(count).toBe(1)
    const blobs = await api.db.sql<{ digest: string }[]>`select digest from blobs order by digest`
    expect(blobs.map((b) => b.digest).sort()).toEqual(
      [upload.bundle.digest, upload.files[0]!.digest].sort(),
    )
  })

  test("the same content in another environment is another deployment sharing the blobs", async () => {
    const upload = buildUpload([{ id: "task-a" }], { salt: "shared" })
    const dev = Deployment.parse(await (await post("/deployments", upload, "dev")).json())
    const res = await post("/deployments", upload, "staging")
    expect(res.status).toBe(201)
    const staging = Deployment.parse(await res.json())
    expect(staging.id).not.toBe(dev.id)
    expect(staging.contentDigest).toBe(dev.contentDigest)
    expect(staging.version).toBe(1)
    const [{ count } = { count: -1 }] = await api.db.sql<{ count: number }[]>`
      select count(*)::int as count from blobs where digest = ${upload.bundle.digest}`
    expect(count).toBe(1)
  })

  test("retrieve returns the manifest and file digests; list pages newest first", async () => {
    const ids: string[] = []
    const at = (i: number) => ids[i] as string
    for (const salt of ["p1", "p2", "p3"]) {
      const res = await post("/deployments", buildUpload([{ id: "paged" }], { salt }), "prod")
      ids.push(Deployment.parse(await res.json()).id)
    }
    const detail = DeploymentDetail.parse(
      await (await get(`/deployments/${ids[0]}`, "prod")).json(),
    )
    expect(detail.manifest.images[0]?.steps[1]).toMatchObject({
      op: "copy",
      source: { path: "package.json" },
    })
    expect(detail.files).toEqual([
      { path: "package.json", digest: sha256Digest('{ "name": "fixture" }\n') },
    ])

    const page1 = DeploymentList.parse(await (await get("/deployments?limit=2", "prod")).json())
    expect(page1.data.map((d) => d.id)).toEqual([at(2), at(1)])
    expect(page1.nextCursor).not.toBeNull()
    const page2 = DeploymentList.parse(
      await (await get(`/deployments?limit=2&cursor=${page1.nextCursor}`, "prod")).json(),
    )
    expect(page2.data.map((d) => d.id)).toEqual([at(0)])
    expect(page2.nextCursor).toBeNull()
    await expectError(await get("/deployments?limit=0", "prod"), 422, "validation_failed")
    await expectError(await get("/deployments?cursor=abc", "prod"), 422, "validation_failed")
  })

  test("another environment's deployment is not found, for reading and promoting", async () => {
    const res = await post("/deployments", buildUpload([{ id: "mine" }], { salt: "iso" }), "dev")
    const { id } = Deployment.parse(await res.json())
    await expectError(await get(`/deployments/${id}`, "staging"), 404, "not_found")
    await expectError(await post(`/deployments/${id}/promote`, {}, "staging"), 404, "not_found")
    await expectError(await get("/deployments/dep_nope"), 404, "not_found")
    const list = DeploymentList.parse(await (await get("/deployments", "staging")).json())
    expect(list.data.map((d) => d.id)).not.toContain(id)
    const [env] = await api.db.sql<{ currentDeploymentId: string | null }[]>`
      select current_deployment_id from environments where slug = 'staging'`
    expect(env?.currentDeploymentId).toBeNull()
  })

  test("without a key it is 401", async () => {
    const res = await api.app.request("/api/v1/deployments", { method: "POST", body: "{}" })
    await expectError(res, 401, "unauthorized")
  })
})

describe("bad uploads are 4xx and store nothing", () => {
  const paths = (error: { details?: unknown }) => (error.details as FieldIssue[]).map((i) => i.path)
  const countDeployments = async () =>
    (
      await api.db.sql<
        { n: number }[]
      >`select count(*)::int as n from deployments where manifest->'tasks'->0->>'id' = 'bad'`
    )[0]!.n

  test("malformed JSON is 400, another content type 415", async () => {
    await expectError(await post("/deployments", "{nope"), 400, "invalid_json")
    const res = await api.app.request("/api/v1/deployments", {
      method: "POST",
      headers: { authorization: `Bearer ${api.apiKeys.dev}`, "content-type": "text/plain" },
      body: "x",
    })
    await expectError(res, 415, "unsupported_media_type")
  })

  test("an invalid manifest is 422 with the failing paths", async () => {
    const upload = buildUpload([{ id: "bad" }])
    const body = {
      ...upload,
      manifest: { ...upload.manifest, tasks: [{ ...upload.manifest.tasks[0], id: "bad id" }] },
    }
    const error = await expectError(await post("/deployments", body), 422, "validation_failed")
    expect(paths(error)).toContain("manifest.tasks[0].id")
  })

  test("a sandbox's warm count out of range is 422 naming the field", async () => {
    const upload = buildUpload([{ id: "bad" }])
    const sandbox = upload.manifest.sandboxes[0] as Record<string, unknown>
    for (const warm of [-1, 1.5, 33, "2"]) {
      const body = {
        ...upload,
        manifest: { ...upload.manifest, sandboxes: [{ ...sandbox, warm }] },
      }
      const error = await expectError(await post("/deployments", body), 422, "validation_failed")
      expect(paths(error)).toContain("manifest.sandboxes[0].warm")
    }
    expect(await countDeployments()).toBe(0)
  })

  test("bad schedule options in a manifest are 422 naming the field", async () => {
    const upload = buildUpload([{ id: "flow", cron: "0 2 * * *" }])
    const task = upload.manifest.tasks[0] as Record<string, unknown>
    const body = {
      ...upload,
      manifest: {
        ...upload.manifest,
        tasks: [{ ...task, schedule: { overlap: "sometimes", catchupWindow: "soon" } }],
      },
    }
    const error = await expectError(await post("/deployments", body), 422, "validation_failed")
    expect(paths(error)).toEqual(
      expect.arrayContaining([
        "manifest.tasks[0].schedule.overlap",
        "manifest.tasks[0].schedule.catchupWindow",
      ]),
    )
  })

  test.each([
    [
      "bad cron",
      { cron: "0 2 * *" },
      "tasks[0].cron.pattern",
      /task "bad": cron.pattern: "0 2 \* \*" must have 5 fields/,
    ],
    [
      "bad timezone",
      { cron: "0 2 * * *", timezone: "Mars/Base" },
      "tasks[0].cron.timezone",
      /unknown IANA time zone/,
    ],
  ])("%s is 422 naming the task and the field", async (_name, task, path, message) => {
    const error = await expectError(
      await post("/deployments", buildUpload([{ id: "bad", ...task }])),
      422,
      "validation_failed",
    )
    const issue = (error.details as FieldIssue[]).find((i) => i.path === path)
    expect(issue?.message).toMatch(message)
    expect(error.message).toContain(path)
  })

  test("digests that do not match, missing and extra files are refused", async () => {
    const upload = buildUpload([{ id: "bad" }])
    const wrongBundle = { ...upload, bundle: { ...upload.bundle, digest: sha256Digest("other") } }
    expect(
      paths(await expectError(await post("/deployments", wrongBundle), 422, "validation_failed")),
    ).toEqual(["bundle.digest"])

    const tampered = {
      ...upload,
      files: [{ ...upload.files[0]!, content: Buffer.from("tampered").toString("base64") }],
    }
    expect(
      paths(await expectError(await post("/deployments", tampered), 422, "validation_failed")),
    ).toContain("files[0].digest")

    const missing = { ...upload, files: [] }
    const missingError = await expectError(
      await post("/deployments", missing),
      422,
      "validation_failed",
    )
    expect(missingError.message).toContain(
      '"package.json" is copied by image "img" but was not uploaded',
    )

    const extraContent = "extra"
    const extra = {
      ...upload,
      files: [
        ...upload.files,
        {
          path: "extra.txt",
          digest: sha256Digest(extraContent),
          content: Buffer.from(extraContent).toString("base64"),
        },
      ],
    }
    const extraError = await expectError(
      await post("/deployments", extra),
      422,
      "validation_failed",
    )
    expect((extraError.details as FieldIssue[])[0]?.message).toBe(
      '"extra.txt" is uploaded but no image copies it',
    )

    const escaping = { ...upload, files: [{ ...upload.files[0]!, path: "../etc/passwd" }] }
    expect(
      paths(await expectError(await post("/deployments", escaping), 422, "validation_failed")),
    ).toContain("files[0].path")
    expect(await countDeployments()).toBe(0)
  })

  test("references that do not resolve are refused", async () => {
    const upload = buildUpload([{ id: "bad" }])
    const body = {
      ...upload,
      manifest: {
        ...upload.manifest,
        sandboxes: [{ ...upload.manifest.sandboxes[0]!, image: "nope" }],
      },
    }
    const error = await expectError(await post("/deployments", body), 422, "validation_failed")
    expect(error.details).toContainEqual({
      path: "sandboxes[0].image",
      message: 'no image named "nope"',
    })
    expect(await countDeployments()).toBe(0)
  })

  test("the upload limit is its own: larger than other routes, still enforced", async () => {
    // 20 KiB: over the default 4 KiB limit, under the 256 KiB deploy limit.
    const padded = buildUpload([{ id: "bad" }], {
      packageJson: `${JSON.stringify({ pad: "x".repeat(20_000) })}\n`,
    })
    const res = await post("/deployments", padded)
    expect(res.status).toBe(201)
    const other = await post("/deployments/dep_x/promote", { pad: "x".repeat(20_000) })
    await expectError(other, 413, "payload_too_large")
    const huge = buildUpload([{ id: "bad" }], { packageJson: "x".repeat(300_000) })
    await expectError(await post("/deployments", huge), 413, "payload_too_large")
  })
})

test("an unauthenticated upload is refused before its body is read", async () => {
  const res = await api.app.request("/api/v1/deployments", {
    method: "POST",
    headers: { "content-type": "application/json", "content-length": String(10 * 1024 * 1024) },
    body: "{}",
  })
  await expectError(res, 401, "unauthorized")
})
