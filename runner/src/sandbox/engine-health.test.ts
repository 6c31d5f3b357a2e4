import { describe, expect, test } from "bun:test"
import { createEngineHealth, EngineUnavailableError, engineUnreachable } from "./engine-health.ts"

const transport = (code: string) =>
  Object.assign(new Error(`connect ${code} /run/docker.sock`), { code })
const http = (statusCode: number, message: string) =>
  Object.assign(new Error(message), { statusCode })

describe("engineUnreachable", () => {
  const cases: [string, unknown, boolean][] = [
    ["the socket is gone (dockerd restarting)", transport("ENOENT"), true],
    ["the socket refuses", transport("ECONNREFUSED"), true],
    ["the connection is cut", transport("ECONNRESET"), true],
    [
      "a transport error wrapped as a cause",
      new Error("build", { cause: transport("EPIPE") }),
      true,
    ],
    ["already classified", new EngineUnavailableError(transport("ENOENT")), true],
    // An HTTP answer is the engine's verdict on the request, never an outage.
    ["an OCI runtime refusal (500)", http(500, "OCI runtime create failed"), false],
    ["a missing image (404)", http(404, "no such image"), false],
    [
      "a transport code beside an HTTP status",
      Object.assign(http(500, "x"), { code: "ENOENT" }),
      false,
    ],
    ["a task's own error", new TypeError("boom"), false],
    [
      "a file the build could not read",
      Object.assign(new Error("open"), { code: "EACCES" }),
      false,
    ],
    ["not an error", "ENOENT", false],
    ["nothing", null, false],
  ]
  for (const [name, error, expected] of cases) {
    test(name, () => expect(engineUnreachable(error)).toBe(expected))
  }
})

describe("createEngineHealth", () => {
  test("ready until a transport failure; then only after a ping is answered, pinged at most every retryMs", async () => {
    let clock = 0
    let answers = false
    let pings = 0
    const health = createEngineHealth(
      async () => {
        pings++
        if (!answers) throw transport("ENOENT")
      },
      { retryMs: 1_000, now: () => clock },
    )
    expect(await health.ready()).toBe(true)
    expect(health.failed(http(500, "OCI runtime create failed"))).toBe(false)
    expect(await health.ready()).toBe(true)
    expect(pings).toBe(0)

    expect(health.failed(transport("ENOENT"))).toBe(true)
    expect(await health.ready()).toBe(false)
    expect(pings).toBe(0) // not before retryMs
    clock = 1_000
    expect(await health.ready()).toBe(false)
    expect(pings).toBe(1)
    clock = 1_500
    expect(await health.ready()).toBe(false)
    expect(pings).toBe(1)
    answers = true
    clock = 2_000
    expect(await health.ready()).toBe(true)
    expect(pings).toBe(2)
    // Healthy again: no more pings.
    clock = 9_000
    expect(await health.ready()).toBe(true)
    expect(pings).toBe(2)
  })
})
