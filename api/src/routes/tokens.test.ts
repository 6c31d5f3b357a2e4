import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { newId } from "@helmr/migrations/ids"
import { transitionRun } from "@helmr/migrations/queries/runs"
import { type ApiFixture, expectApiError, startApiFixture } from "../test-fixtures.ts"

let f: ApiFixture
beforeAll(async () => {
  f = await startApiFixture("i4tokens")
})
afterAll(() => f.close())

/** A run parked in `waiting` on a new pending token. */
async function waitingOnToken(options: { timeoutAt?: Date } = {}) {
  const sql = f.api.db.sql
  const { id: runId } = await f.clients.dev.runs.trigger("no-payload")
  await f.api.valkey.valkey.zrem(f.api.valkey.keys.runQueue, runId)
  await transitionRun(sql, runId, ["queued"], "starting")
  await transitionRun(sql, runId, ["starting"], "running")
  await transitionRun(sql, runId, ["running"], "waiting")
  const tokenId = newId("tok")
  await sql`insert into waitpoints (id, environment_id, run_id, kind, timeout_at)
    values (${tokenId}, ${f.env("dev").id}, ${runId}, 'token', ${options.timeoutAt ?? null})`
  return { runId, tokenId }
}

const status = async (table: "runs" | "waitpoints", id: string) => {
  const [row] = await f.api.db.sql<{ status: string }[]>`
    select status from ${f.api.db.sql(table)} where id = ${id}`
  return row?.status
}

describe("tokens.create", () => {
  test("201 a pending token; the same idempotencyKey gives the same token (200)", async () => {
    const token = await f.clients.dev.tokens.create({
      timeout: "1h",
      idempotencyKey: "approve-1",
      tags: ["a", "a", "b"],
    })
    expect(token).toMatchObject({ status: "pending", tags: ["a", "b"] })
    expect(token.id).toStartWith("tok_")
    expect(token.url).toBe(`/api/v1/tokens/${token.id}/complete`)
    const again = await f.clients.dev.tokens.create({ idempotencyKey: "approve-1" })
    expect(again.id).toBe(token.id)
    // Keys are per environment.
    const staging = await f.clients.staging.tokens.create({ idempotencyKey: "approve-1" })
    expect(staging.id).not.toBe(token.id)
  })

  test("bad bodies are 422 naming the field and write nothing", async () => {
    const before = await f.api.db.sql`select 1 from waitpoints`
    for (const [body, path] of [
      [{ timeout: "soon" }, "timeout"],
      [{ timeout: "400d" }, "timeout"],
      [{ idempotencyKey: "a:b" }, "idempotencyKey"],
      [{ tags: "x" }, "tags"],
      [{ extra: 1 }, "(body)"],
    ] as const) {
      const error = await expectApiError(f.clients.dev.tokens.create(body as never))
      expect(error.status).toBe(422)
      expect(JSON.stringify(error.details)).toContain(path)
    }
    expect((await f.api.db.sql`select 1 from waitpoints`).length).toBe(before.length)
  })
})

describe("tokens.complete", () => {
  test("completes the token with its data and makes the waiting run runnable again", async () => {
    const { runId, tokenId } = await waitingOnToken()
    const done = await f.clients.dev.tokens.complete(tokenId, { approved: true, by: "ops" })
    expect(done).toMatchObject({
      id: tokenId,
      status: "completed",
      data: { approved: true, by: "ops" },
    })
    expect(await status("waitpoints", tokenId)).toBe("completed")
    expect(await status("runs", runId)).toBe("queued")
    expect(await f.api.valkey.valkey.zscore(f.api.valkey.keys.runQueue, runId)).not.toBeNull()

    // A second completion is 409 with the first one (issue 10) and changes nothing.
    const again = await expectApiError(f.clients.dev.tokens.complete(tokenId, { approved: false }))
    expect(again.status).toBe(409)
    expect(again.details).toEqual(done)
    const events = await f.api.db.sql`
      select 1 from run_events where run_id = ${runId} and type = 'token_completed'`
    expect(events.length).toBe(1)
  })

  test("a run still waiting on another token stays waiting", async () => {
    const { runId, tokenId } = await waitingOnToken()
    const other = newId("tok")
    await f.api.db.sql`insert into waitpoints (id, environment_id, run_id, kind)
      values (${other}, ${f.env("dev").id}, ${runId}, 'token')`
    await f.clients.dev.tokens.complete(tokenId)
    expect(await status("runs", runId)).toBe("waiting")
    await f.clients.dev.tokens.complete(other, "second")
    expect(await status("runs", runId)).toBe("queued")
  })

  test("timed-out tokens are 409; unknown tokens, timers and bad ids are 404; bad bodies 4xx", async () => {
    const expired = await waitingOnToken({ timeoutAt: new Date(Date.now() - 1000) })
    const late = await expectApiError(f.clients.dev.tokens.complete(expired.tokenId, 1))
    expect(late.status).toBe(409)
    expect(await status("waitpoints", expired.tokenId)).toBe("pending")
    expect(await status("runs", expired.runId)).toBe("waiting")

    const timedOut = await waitingOnToken()
    await f.api.db.sql`update waitpoints set status = 'timed_out' where id = ${timedOut.tokenId}`
    expect((await expectApiError(f.clients.dev.tokens.complete(timedOut.tokenId))).status).toBe(409)

    const timer = newId("wp")
    await f.api.db.sql`insert into waitpoints (id, environment_id, kind, resume_at)
      values (${timer}, ${f.env("dev").id}, 'timer', now())`
    for (const id of [timer, newId("tok"), "not-a-token"]) {
      expect((await expectApiError(f.clients.dev.tokens.complete(id))).status).toBe(404)
    }
    expect(await status("waitpoints", timer)).toBe("pending")

    const { tokenId } = await waitingOnToken()
    for (const [body, expected] of [
      [{ data: 1, extra: 2 }, 422],
      [[1], 422],
      ["{not json", 400],
    ] as const) {
      const res = await fetch(`${f.url}/api/v1/tokens/${tokenId}/complete`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${f.api.apiKeys.dev}`,
          "content-type": "application/json",
        },
        body: typeof body === "string" ? body : JSON.stringify(body),
      })
      expect(res.status).toBe(expected)
    }
    expect(await status("waitpoints", tokenId)).toBe("pending")
  })
})
