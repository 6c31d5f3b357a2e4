import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { bootstrapProject } from "@helmr/migrations/bootstrap"
import { createClient, type HelmrClient, type RunEvent, type StreamChunk } from "@helmr/sdk"
import type { Subprocess } from "bun"
import { waitForRun } from "../src/testing/deployments.ts"
import { durableBundle, durableManifest } from "../src/testing/durable-fixture.ts"
import { type RunnerHarness, startRunnerHarness } from "../src/testing/harness.ts"
import { startApiProcess } from "../src/testing/services.ts"

// metadata and streams end to end: a real sandbox appends and sets, the API serves what the
// runner stored, read through the public client.

// The issue asks for 10,000 chunks; CI runs the same size.
const CHUNKS = 10_000

let h: RunnerHarness
let api: { url: string; proc: Subprocess }
let client: HelmrClient
let deploymentId: string

beforeAll(async () => {
  h = await startRunnerHarness("h10a-state")
  api = await startApiProcess(h)
  client = createClient({ apiUrl: api.url, apiKey: h.apiKey })
  deploymentId = await h.deploy({ bundle: await durableBundle(), manifest: durableManifest() })
}, 120_000)

afterAll(async () => {
  api?.proc.kill("SIGTERM")
  await api?.proc.exited
  await h?.stop()
}, 60_000)

async function collect(iterable: AsyncIterable<StreamChunk>): Promise<StreamChunk[]> {
  const out: StreamChunk[] = []
  for await (const chunk of iterable) out.push(chunk)
  return out
}

describe("metadata", () => {
  test("is seen live on the run's SSE stream and in GET /runs/{id}, and stored at the end", async () => {
    const run = await h.trigger({ deploymentId, taskId: "meta" })
    const expected = { stage: "working", count: 3, steps: ["one", { two: 2 }] }
    const controller = new AbortController()
    const live = (async () => {
      for await (const event of client.runs.events(run.id, { signal: controller.signal })) {
        if (event.type === "metadata") return event
      }
      return null
    })()
    const event = (await live) as RunEvent
    expect(event.data).toEqual({ attempt: 1, metadata: expected })
    // While the run still goes, the API shows the same metadata.
    const running = await client.runs.retrieve(run.id)
    expect(running.status).toBe("running")
    expect(running.metadata).toEqual(expected)
    controller.abort()

    await client.runs.cancel(run.id)
    const done = await waitForRun(h.db.sql, run.id, ["canceled", "failed", "succeeded"], 60_000)
    expect(done.status).toBe("canceled")
    const final = await client.runs.retrieve(run.id)
    expect(final.metadata).toEqual({ ...expected, stage: "stopped" })
    const events: RunEvent[] = []
    for await (const e of client.runs.events(run.id)) events.push(e)
    const snapshots = events.filter((e) => e.type === "metadata")
    expect(snapshots.at(-1)?.data).toEqual({ attempt: 1, metadata: final.metadata })
  }, 180_000)

  test("going over the 256 KiB cap is a clear error that changes nothing", async () => {
    const run = await h.trigger({ deploymentId, taskId: "metaCap" })
    await waitForRun(h.db.sql, run.id, ["succeeded", "failed", "crashed"], 120_000)
    const done = await client.runs.retrieve(run.id)
    expect(done.status).toBe("succeeded")
    const output = done.output as { threw: boolean; name: string; message: string }
    expect(output).toMatchObject({ threw: true, name: "MetadataTooLargeError", isCapError: true })
    expect(output.message).toContain("over its cap of 256 KiB (262144 bytes)")
    expect(output.message).toContain("the change was not applied")
    expect(done.metadata).toEqual({ small: "ok" })
  }, 180_000)

  test("a retry starts with the metadata the failed attempt stored", async () => {
    const run = await h.trigger({ deploymentId, taskId: "metaRetry", maxAttempts: 2 })
    const done = await waitForRun(h.db.sql, run.id, ["succeeded", "failed", "crashed"], 120_000)
    expect(done.attempt).toBe(2)
    expect(done.output).toEqual({ attempts: 2, seen: [1, 2] })
    expect((await client.runs.retrieve(run.id)).metadata).toEqual({ attempts: 2, seen: [1, 2] })
  }, 180_000)
})

describe("streams", () => {
  let sessionId: string

  test(`${CHUNKS} chunks read live from offset 0: every chunk once, in order, then the end`, async () => {
    const run = await h.trigger({
      deploymentId,
      taskId: "numbers",
      payload: { count: CHUNKS, pauseEvery: 1_000 },
    })
    sessionId = run.sessionId
    // Reading starts before the task appends anything: the stream is live, then complete.
    const chunks = await collect(client.streams.read(sessionId, "numbers", { from: 0 }))
    expect(chunks.length).toBe(CHUNKS)
    chunks.forEach((chunk, i) => {
      expect(chunk.offset).toBe(i)
      expect(chunk.data).toEqual({ i })
    })
    const done = await client.runs.retrieve(run.id)
    expect(done.status).toBe("succeeded")
    expect(done.output).toEqual({ appended: CHUNKS, piped: 3 })
    const letters = await collect(client.streams.read(sessionId, "letters"))
    expect(letters).toEqual([
      { offset: 0, data: "a" },
      { offset: 1, data: "b" },
      { offset: 2, data: "c" },
    ])
  }, 240_000)

  test("resumed from a middle offset: exactly the rest, in order", async () => {
    const middle = CHUNKS / 2
    const rest = await collect(client.streams.read(sessionId, "numbers", { from: middle }))
    expect(rest.length).toBe(CHUNKS - middle)
    rest.forEach((chunk, i) => {
      expect(chunk.offset).toBe(middle + i)
      expect(chunk.data).toEqual({ i: middle + i })
    })
  }, 60_000)

  test("Last-Event-ID resumes after that offset; the end event says where the stream ends", async () => {
    const res = await fetch(`${api.url}/api/v1/sessions/${sessionId}/streams/numbers`, {
      headers: { authorization: `Bearer ${h.apiKey}`, "last-event-id": String(CHUNKS - 3) },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get("content-type")).toContain("text/event-stream")
    const text = await res.text()
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))
    expect(ids).toEqual([CHUNKS - 2, CHUNKS - 1])
    expect(text).toContain(
      `event: end\ndata: ${JSON.stringify({ sessionId, stream: "numbers", next: CHUNKS })}`,
    )
  }, 60_000)

  test("another environment's key gets 404; bad names and offsets get 422", async () => {
    const other = await bootstrapProject(h.db.sql, { slug: `h10a-other-${h.testLabel}` })
    const otherKey = other.environments[0]?.apiKey ?? ""
    const get = (path: string, key = h.apiKey, headers: Record<string, string> = {}) =>
      fetch(`${api.url}/api/v1${path}`, { headers: { authorization: `Bearer ${key}`, ...headers } })
    const base = `/sessions/${sessionId}/streams`
    const foreign = await get(`${base}/numbers`, otherKey)
    expect(foreign.status).toBe(404)
    expect(((await foreign.json()) as { error: { code: string } }).error.code).toBe("not_found")
    expect((await get("/sessions/sess_nope/streams/numbers")).status).toBe(404)
    const badName = await get(`${base}/${encodeURIComponent("bad name")}`)
    expect(badName.status).toBe(422)
    expect(await badName.json()).toMatchObject({ error: { details: [{ path: "name" }] } })
    const badFrom = await get(`${base}/numbers?from=-1`)
    expect(badFrom.status).toBe(422)
    expect(await badFrom.json()).toMatchObject({ error: { details: [{ path: "from" }] } })
    const badId = await get(`${base}/numbers`, h.apiKey, { "last-event-id": "x" })
    expect(badId.status).toBe(422)
    // A stream nobody wrote to, in a finished session: empty, then the end.
    const empty = await collect(client.streams.read(sessionId, "nothing"))
    expect(empty).toEqual([])
  }, 60_000)
})

describe("ctx", () => {
  test("is frozen, and so are its parts", async () => {
    const run = await h.trigger({ deploymentId, taskId: "frozen" })
    const done = await waitForRun(h.db.sql, run.id, ["succeeded", "failed", "crashed"], 120_000)
    expect(done.error).toBeNull()
    expect(done.output).toEqual({
      frozen: true,
      runFrozen: true,
      sessionFrozen: true,
      attempts: { workspace: "TypeError", runId: "TypeError", newKey: "TypeError" },
      workspace: "/workspace",
    })
    // Without a retention the session's workspace goes when its run ends.
    const docker = h.runner.docker
    const gone = async () =>
      docker
        ?.getVolume(`helmr-ws-${run.sessionId}`)
        .inspect()
        .then(
          () => false,
          () => true,
        )
    const deadline = Date.now() + 10_000
    while (!(await gone()) && Date.now() < deadline) await Bun.sleep(100)
    expect(await gone()).toBe(true)
  }, 120_000)
})
