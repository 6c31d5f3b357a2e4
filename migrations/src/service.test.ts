import { afterAll, expect, test } from "bun:test"
import { createDb } from "./db.ts"
import { checkDependencies } from "./service.ts"
import { createValkey } from "./valkey/client.ts"

// A server that accepts connections and never answers: a hung database, not a refused one.
const silent = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: { data() {}, open() {} },
})
const sql = createDb(`postgres://postgres@127.0.0.1:${silent.port}/x`, { max: 1 })
const valkey = createValkey(`redis://127.0.0.1:${silent.port}`)
afterAll(() => {
  valkey.disconnect()
  void sql.end({ timeout: 0 })
  silent.stop(true)
})

test("a dependency that hangs is reported down within the timeout", async () => {
  const started = performance.now()
  const result = await checkDependencies(sql, valkey, 300)
  expect(result).toEqual({ ok: false, postgres: "down", valkey: "down" })
  expect(performance.now() - started).toBeLessThan(5_000)
})
