import { afterEach, describe, expect, test } from "bun:test"
import { configure, scheduleClientFunctions } from "./facade.ts"

const saved = { url: process.env.HELMR_API_URL, key: process.env.HELMR_API_KEY }
afterEach(() => {
  for (const [name, value] of [
    ["HELMR_API_URL", saved.url],
    ["HELMR_API_KEY", saved.key],
  ] as const) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
})

describe("schedules facade", () => {
  test("without configuration or environment it says what to set", async () => {
    delete process.env.HELMR_API_URL
    delete process.env.HELMR_API_KEY
    expect(() => scheduleClientFunctions.list()).toThrow(/HELMR_API_URL and HELMR_API_KEY/)
  })

  test("configure() routes the facade through the given fetch, URL and key", async () => {
    const seen: { url: string; auth: string | null; body: unknown }[] = []
    configure({
      apiUrl: "https://helmr.test/",
      apiKey: "hk_dev_abc",
      fetch: async (input, init) => {
        const headers = new Headers(init?.headers)
        seen.push({
          url: String(input),
          auth: headers.get("authorization"),
          body: init?.body ? JSON.parse(String(init.body)) : null,
        })
        return Response.json({ timezones: ["UTC"] })
      },
    })
    expect(await scheduleClientFunctions.timezones()).toEqual(["UTC"])
    expect(seen).toEqual([
      { url: "https://helmr.test/api/v1/timezones", auth: "Bearer hk_dev_abc", body: null },
    ])
  })
})
