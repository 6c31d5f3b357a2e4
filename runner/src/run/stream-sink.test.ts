import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { bootstrapProject } from "@helmr/migrations/bootstrap"
import { insertRun } from "@helmr/migrations/queries/runs"
import {
  createTestDatabase,
  createTestValkey,
  type TestDatabase,
  type TestValkey,
  walkRun,
} from "@helmr/migrations/testing"
import { valkeyKeys } from "@helmr/migrations/valkey"
import { insertDeployment } from "../testing/deployments.ts"
import { basicManifest } from "../testing/fixtures.ts"
import { createMetadataSink } from "./metadata-sink.ts"
import { createStreamSink } from "./stream-sink.ts"

// The runner's sinks against real Postgres and Valkey.

let db: TestDatabase
let vk: TestValkey
let runId: string
let sessionId: string

beforeAll(async () => {
  db = await createTestDatabase("h10a-sink")
  vk = createTestValkey("h10a-sink")
  const boot = await bootstrapProject(db.sql, { slug: "h10a-sink" })
  const environmentId = boot.environments[0]?.id ?? ""
  const deploymentId = await insertDeployment(db.sql, {
    projectId: boot.projectId,
    environmentId,
    bundle: new TextEncoder().encode("export {}"),
    manifest: basicManifest(),
  })
  const { run } = await insertRun(db.sql, {
    environmentId,
    deploymentId,
    taskId: "t",
    payload: null,
  })
  runId = run.id
  sessionId = run.sessionId
})

afterAll(async () => {
  await vk?.cleanup()
  await db?.drop()
})

const chunks = async (stream: string): Promise<{ seq: string; data: string }[]> => [
  ...(await db.sql<{ seq: string; data: string }[]>`
    select seq::text, data from stream_chunks
    where session_id = ${sessionId} and stream = ${stream} order by stream_chunks.seq`),
]

function makeSink(options: { maxRows?: number } = {}) {
  const refused: string[] = []
  const sink = createStreamSink({
    sql: db.sql,
    valkey: vk.valkey,
    keys: valkeyKeys(vk.prefix),
    sessionId,
    ...options,
    onRefused: (m) => refused.push(m),
    onError: () => {},
  })
  return { sink, refused }
}

describe("stream sink", () => {
  test("numbers chunks from 0 in arrival order, across streams, in multi-row writes", async () => {
    const { sink, refused } = makeSink({ maxRows: 3 })
    sink.append("a", ["1", "2"])
    sink.append("b", ['"x"'])
    sink.append("a", ["3", "4", "5"])
    await sink.flush()
    expect(await chunks("a")).toEqual(
      ["1", "2", "3", "4", "5"].map((data, i) => ({ seq: String(i), data })),
    )
    expect(await chunks("b")).toEqual([{ seq: "0", data: '"x"' }])
    expect(refused).toEqual([])
  })

  test("a later attempt continues the offsets; forged chunks are refused and reported", async () => {
    const { sink, refused } = makeSink()
    sink.append("a", ["6", "{not json", '"line\nbreak"', "7"])
    sink.append("bad name", ["1"])
    await sink.flush()
    expect((await chunks("a")).map((c) => [c.seq, c.data]).slice(5)).toEqual([
      ["5", "6"],
      ["6", "7"],
    ])
    expect(refused).toHaveLength(3)
    expect(refused.join("\n")).toContain("bad stream name")
  })

  test("another writer took an offset: the sink reads the offsets again and stores its chunks", async () => {
    const { sink } = makeSink()
    sink.append("c", ["0"])
    await sink.flush()
    await db.sql`insert into stream_chunks (session_id, stream, seq, data)
      values (${sessionId}, 'c', 1, '"other"')`
    sink.append(
      "c",
      ["mine"].map((s) => JSON.stringify(s)),
    )
    await sink.flush()
    expect((await chunks("c")).map((c) => c.data)).toEqual(["0", '"other"', '"mine"'])
  })
})

describe("metadata sink", () => {
  test("stores the latest snapshot with a metadata event, guarded by the attempt", async () => {
    await walkRun(db.sql, runId, ["starting", "running"])
    await db.sql`update runs set attempt = 1 where id = ${runId}`
    const refused: string[] = []
    const make = (attempt: number) =>
      createMetadataSink({
        sql: db.sql,
        valkey: vk.valkey,
        keys: valkeyKeys(vk.prefix),
        runId,
        attempt,
        onRefused: (m) => refused.push(m),
        onError: () => {},
      })
    const sink = make(1)
    sink.update({ n: 1 })
    sink.update({ n: 2 })
    sink.update({ n: 3, text: "nul\u0000gone" })
    await sink.flush()
    const [row] = await db.sql<
      { metadata: unknown }[]
    >`select metadata from runs where id = ${runId}`
    expect(row?.metadata).toEqual({ n: 3, text: "nulgone" })
    const events = await db.sql<{ data: { metadata: { n: number } } }[]>`
      select data from run_events where run_id = ${runId} and type = 'metadata' order by id`
    // The first write, then only the latest of what queued behind it.
    expect(events.map((e) => e.data.metadata.n)).toEqual([1, 3])
    sink.update({ big: "x".repeat(256 * 1024) })
    expect(refused[0]).toContain("over the cap of 256 KiB")
    const stale = make(0)
    stale.update({ stale: true })
    await stale.flush()
    const [after] = await db.sql<
      { metadata: unknown }[]
    >`select metadata from runs where id = ${runId}`
    expect(after?.metadata).toEqual({ n: 3, text: "nulgone" })
  })
})
