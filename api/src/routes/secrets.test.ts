import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { SecretRow } from "@helmr/migrations/rows"
import { openSecret } from "@helmr/migrations/secrets"
import { type ApiFixture, expectApiError, startApiFixture } from "../test-fixtures.ts"

let f: ApiFixture
beforeAll(async () => {
  f = await startApiFixture("i4secrets")
})
afterAll(() => f.close())

const VALUE = "sk-live-do-not-leak-0123456789"

describe("secrets", () => {
  test("set seals the value; list shows names only; set again replaces; delete removes", async () => {
    const created = await f.clients.dev.secrets.set("OPENAI_API_KEY", VALUE)
    expect(created).toEqual({
      name: "OPENAI_API_KEY",
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    })
    const [row] = await f.api.db.sql<SecretRow[]>`
      select * from secrets where environment_id = ${f.env("dev").id} and name = 'OPENAI_API_KEY'`
    expect(openSecret(f.api.deps.keyring, f.env("dev").id, "OPENAI_API_KEY", row!)).toBe(VALUE)
    expect(Buffer.from(row!.ciphertext).toString("utf8")).not.toContain(VALUE)

    const raw = await fetch(`${f.url}/api/v1/secrets`, {
      headers: { authorization: `Bearer ${f.api.apiKeys.dev}` },
    })
    const text = await raw.text()
    expect(text).not.toContain(VALUE)
    expect(JSON.parse(text)).toEqual({ data: [created] })

    const res = await fetch(`${f.url}/api/v1/secrets/OPENAI_API_KEY`, {
      method: "PUT",
      headers: { authorization: `Bearer ${f.api.apiKeys.dev}`, "content-type": "application/json" },
      body: JSON.stringify({ value: "rotated" }),
    })
    expect(res.status).toBe(200)
    expect(await res.text()).not.toContain("rotated")
    const [rotated] = await f.api.db.sql<SecretRow[]>`
      select * from secrets where environment_id = ${f.env("dev").id} and name = 'OPENAI_API_KEY'`
    expect(openSecret(f.api.deps.keyring, f.env("dev").id, "OPENAI_API_KEY", rotated!)).toBe(
      "rotated",
    )
    await f.clients.dev.secrets.set("B_SECRET", "")
    expect((await f.clients.dev.secrets.list()).map((s) => s.name)).toEqual([
      "B_SECRET",
      "OPENAI_API_KEY",
    ])

    expect(await f.clients.dev.secrets.del("OPENAI_API_KEY")).toEqual({
      name: "OPENAI_API_KEY",
      deleted: true,
    })
    expect((await f.clients.dev.secrets.list()).map((s) => s.name)).toEqual(["B_SECRET"])
    expect((await expectApiError(f.clients.dev.secrets.del("OPENAI_API_KEY"))).status).toBe(404)
  })

  test("bad names and bodies are 4xx and store nothing", async () => {
    const before = await f.clients.dev.secrets.list()
    for (const name of ["1BAD", "has-dash", "x".repeat(257)]) {
      const error = await expectApiError(f.clients.dev.secrets.set(name, "v"))
      expect(error.status).toBe(422)
      expect(error.details).toEqual([{ path: "name", message: expect.any(String) }])
    }
    const bodies: [unknown, string][] = [
      [{}, "value"],
      [{ value: 5 }, "value"],
      [{ value: null }, "value"],
      [{ value: "x".repeat(65_537) }, "value"],
      [{ value: "v", extra: true }, "(body)"],
    ]
    for (const [body, path] of bodies) {
      const res = await fetch(`${f.url}/api/v1/secrets/GOOD_NAME`, {
        method: "PUT",
        headers: {
          authorization: `Bearer ${f.api.apiKeys.dev}`,
          "content-type": "application/json",
        },
        body: JSON.stringify(body),
      })
      expect(res.status).toBe(422)
      const error = (await res.json()) as { error: { details: { path: string }[] } }
      expect(error.error.details.map((d) => d.path)).toContain(path)
    }
    const malformed = await fetch(`${f.url}/api/v1/secrets/GOOD_NAME`, {
      method: "PUT",
      headers: { authorization: `Bearer ${f.api.apiKeys.dev}`, "content-type": "application/json" },
      body: '{"value": ',
    })
    expect(malformed.status).toBe(400)
    expect(await f.clients.dev.secrets.list()).toEqual(before)
  })
})
