import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { walkRun } from "@helmr/migrations/testing"
import { encodeStreamNotice } from "@helmr/migrations/valkey"
import type { StreamChunk } from "@helmr/sdk"
import { type ApiFixture, startApiFixture } from "../test-fixtures.ts"

// The session stream route against real Postgres and Valkey, with this test playing the runner:
// notices that carry chunks, lost ones, repeated ones, bare names, then the run's end.

let f: ApiFixture

beforeAll(async () => {
  f = await startApiFixture("h10a-sessions", {
    overrides: { sse: { pollMs: 30_000, heartbeatMs: 30_000 } },
  })
})

afterAll(async () => {
  await f?.close()
})

describe("GET /sessions/{id}/streams/{name}", () => {
  test("every chunk once and in order, whatever the notices do, then the end", async () => {
    const sql = f.api.db.sql
    const keys = f.api.deps.keys
    const valkey = f.api.valkey.valkey
    const { id } = await f.clients.dev.runs.trigger("no-payload")
    const run = await f.clients.dev.runs.retrieve(id)
    await walkRun(sql, id, ["starting", "running"])
    const channel = keys.sessionChannel(run.sessionId)
    const store = async (from: number, texts: string[]) => {
      await sql`insert into stream_chunks (session_id, stream, seq, data)
        select ${run.sessionId}, 'out', q, d
        from unnest(${texts.map((_t, i) => from + i)}::bigint[], ${texts}::text[]) as c(q, d)`
    }
    const publish = (message: string) => valkey.publish(channel, message)

    const got: StreamChunk[] = []
    const reading = (async () => {
      for await (const chunk of f.clients.dev.streams.read(run.sessionId, "out")) got.push(chunk)
    })()
    // Well under the 30 s poll: only a notice (or a read it caused) can deliver in time.
    const until = async (n: number) => {
      const deadline = Date.now() + 8_000
      while (got.length < n && Date.now() < deadline) await Bun.sleep(20)
    }
    await Bun.sleep(300) // the reader subscribed

    await store(0, ["0", "1", "2"])
    await publish(encodeStreamNotice("out", 0, ["0", "1", "2"]))
    await until(3)
    expect(got.map((c) => c.offset)).toEqual([0, 1, 2])

    await store(3, ["3", "4"]) // its notice is lost
    await store(5, ["5", "6"])
    await publish(encodeStreamNotice("out", 5, ["5", "6"])) // ahead: Postgres fills the gap
    await publish(encodeStreamNotice("out", 0, ["0", "1", "2"])) // again: ignored
    await publish(encodeStreamNotice("other", 0, ['"x"'])) // another stream: ignored
    await until(7)
    await store(7, ["7"])
    await publish("out") // a bare name: read Postgres
    await until(8)
    await walkRun(sql, id, ["succeeded"])
    await valkey.publish(keys.runChannel(id), "status")
    await reading
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((n) => ({ offset: n, data: n })))
  }, 30_000)

  test("a finished session: from any offset, and other environments see nothing", async () => {
    const { id } = await f.clients.dev.runs.trigger("no-payload")
    const run = await f.clients.dev.runs.retrieve(id)
    const sql = f.api.db.sql
    await sql`insert into stream_chunks (session_id, stream, seq, data)
      select ${run.sessionId}, 's', g, g::text from generate_series(0, 2499) g`
    await walkRun(sql, id, ["starting", "running", "failed"])
    const read = async (from: number) => {
      const out: number[] = []
      for await (const c of f.clients.dev.streams.read(run.sessionId, "s", { from })) {
        expect(c.data).toBe(c.offset)
        out.push(c.offset)
      }
      return out
    }
    expect(await read(0)).toEqual([...Array(2500).keys()])
    expect(await read(2499)).toEqual([2499])
    expect(await read(2500)).toEqual([])
    const res = await fetch(`${f.url}/api/v1/sessions/${run.sessionId}/streams/s`, {
      headers: { authorization: `Bearer ${f.api.apiKeys.staging}` },
    })
    expect(res.status).toBe(404)
  }, 30_000)

  test("bad input is the shared 422 envelope naming the field; a malformed id is 404 like /runs/{id}", async () => {
    const { id } = await f.clients.dev.runs.trigger("no-payload")
    const { sessionId } = await f.clients.dev.runs.retrieve(id)
    const get = (path: string, headers: Record<string, string> = {}) =>
      fetch(`${f.url}/api/v1/${path}`, {
        headers: { authorization: `Bearer ${f.api.apiKeys.dev}`, ...headers },
      })
    const refused = async (res: Response, field: string) => {
      expect(res.status).toBe(422)
      const body = (await res.json()) as {
        error: { code: string; details: { path: string; message: string }[] }
      }
      expect(body.error.code).toBe("validation_failed")
      expect(body.error.details.map((d) => d.path)).toContain(field)
    }
    await refused(await get(`sessions/${sessionId}/streams/-bad`), "name")
    await refused(await get(`sessions/${sessionId}/streams/a%00b`), "name")
    await refused(await get("sessions/sess%00/streams/out"), "sessionId")
    await refused(await get(`sessions/${sessionId}/streams/out?from=-1`), "from")
    await refused(await get(`sessions/${sessionId}/streams/out?from=1&from=2`), "from")
    await refused(
      await get(`sessions/${sessionId}/streams/out`, { "last-event-id": "x" }),
      "Last-Event-ID",
    )
    // As `GET /runs/run_nope` is 404, so is a session id of the wrong form.
    expect((await get("runs/run_nope")).status).toBe(404)
    for (const malformed of ["sess_nope", "run_00000000000000000000000000", "x"]) {
      const res = await get(`sessions/${malformed}/streams/out`)
      expect(res.status).toBe(404)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_found")
    }
  })
})
