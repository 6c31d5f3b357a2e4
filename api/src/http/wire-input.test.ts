import { afterAll, beforeAll, expect, test } from "bun:test"
import { connect } from "node:net"
import { type ApiFixture, startApiFixture } from "../test-fixtures.ts"

/**
 * Bytes no Fetch client would send, written raw to the socket: whatever Bun's HTTP parser lets
 * through must get a 4xx from the app, never a 5xx.
 */
let f: ApiFixture
let runId = ""
beforeAll(async () => {
  f = await startApiFixture("wirein")
  runId = (await f.clients.dev.runs.trigger("no-payload")).id
})
afterAll(async () => {
  await f.close()
})

/** Sends `head` (and `body`) as latin1 bytes; resolves with the response status. */
function rawStatus(head: string, body = ""): Promise<number> {
  const { hostname, port } = new URL(f.url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(Buffer.from(`${head}\r\nConnection: close\r\n\r\n${body}`, "latin1"))
    })
    let reply = ""
    socket.on("data", (chunk: Buffer) => {
      reply += chunk.toString("latin1")
      const status = /^HTTP\/1\.1 (\d{3})/.exec(reply)
      if (status) {
        socket.destroy()
        resolve(Number(status[1]))
      }
    })
    socket.on("error", reject)
    socket.on("close", () =>
      resolve(/^HTTP\/1\.1 (\d{3})/.test(reply) ? Number(reply.slice(9, 12)) : 0),
    )
  })
}

test("odd bytes in the request line and headers are a 4xx, never a 5xx", async () => {
  const auth = `Authorization: Bearer ${f.api.apiKeys.dev}`
  const cases: [string, string?][] = [
    [`GET /api/v1/runs/%00 HTTP/1.1\r\nHost: x\r\n${auth}`],
    [`GET /api/v1/runs/\xff\xfe HTTP/1.1\r\nHost: x\r\n${auth}`],
    [`GET /api/v1/runs/%ed%a0%80 HTTP/1.1\r\nHost: x\r\n${auth}`],
    [`DELETE /api/v1/schedules/%00 HTTP/1.1\r\nHost: x\r\n${auth}`],
    [`GET /api/v1/runs?tag=%00&cursor=%ff HTTP/1.1\r\nHost: x\r\n${auth}`],
    ["GET /api/v1/runs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\x80"],
    ["GET /api/v1/runs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\x00b"],
    [`GET /api/v1/runs HTTP/1.1\r\nHost: x\r\n${auth}\r\nX-Request-Id: \xff\x00`],
    [`GET /api/v1/runs/${runId}/events HTTP/1.1\r\nHost: x\r\n${auth}\r\nLast-Event-ID: \xff`],
    [`GET /api/v1/runs/${runId}/events?lastEventId=%00 HTTP/1.1\r\nHost: x\r\n${auth}`],
    [
      `POST /api/v1/tasks/no-payload/trigger HTTP/1.1\r\nHost: x\r\n${auth}\r\nContent-Type: application/json\r\nContent-Length: 99999999999`,
      "{}",
    ],
    [
      `POST /api/v1/tasks/no-payload/trigger HTTP/1.1\r\nHost: x\r\n${auth}\r\nContent-Type: application/json\r\nContent-Length: 9`,
      '{"a":"\xff"}',
    ],
  ]
  const [{ n: runsBefore } = { n: -1 }] = await f.api.db.sql<{ n: number }[]>`
    select count(*)::int as n from runs`
  const outside4xx: { head: string; status: number }[] = []
  for (const [head, body] of cases) {
    const status = await rawStatus(head, body)
    if (process.env.HELMR_TEST_VERBOSE) console.log(status, JSON.stringify(head.split("\r\n")[0]))
    if (status < 400 || status >= 500) outside4xx.push({ head, status })
  }
  expect(outside4xx).toEqual([])
  const [{ n: runsAfter } = { n: -2 }] = await f.api.db.sql<{ n: number }[]>`
    select count(*)::int as n from runs`
  expect(runsAfter).toBe(runsBefore)
})
