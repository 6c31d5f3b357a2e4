import { afterEach, describe, expect, test } from "bun:test"
import { OutsideRunError, type RunHost, setCurrentRun } from "./current-run.ts"
import { metadata } from "./metadata.ts"
import type { SandboxMessage } from "./protocol.ts"
import { createRunHost } from "./run-host.ts"
import { streams } from "./streams.ts"

afterEach(() => setCurrentRun(null))

describe("module-level APIs outside a run", () => {
  test("every one throws an OutsideRunError that says so", async () => {
    const calls: [string, () => unknown][] = [
      ["metadata.set", () => metadata.set("a", 1)],
      ["metadata.get", () => metadata.get("a")],
      ["metadata.del", () => metadata.del("a")],
      ["metadata.increment", () => metadata.increment("a")],
      ["metadata.decrement", () => metadata.decrement("a")],
      ["metadata.append", () => metadata.append("a", 1)],
      ["metadata.current", () => metadata.current()],
      ["streams.append", () => streams.append("s", 1)],
    ]
    for (const [api, call] of calls) {
      expect(call).toThrow(OutsideRunError)
      expect(call).toThrow(`${api}() can only be used inside a task run`)
    }
    await expect(streams.pipe("s", [1, 2])).rejects.toThrow(
      "streams.pipe() can only be used inside",
    )
  })
})

describe("inside a run", () => {
  test("metadata and streams go to the runner as frames, flushed before the result", async () => {
    const frames: SandboxMessage[] = []
    const { host, flush } = createRunHost(
      {
        type: "start",
        protocol: 1,
        run: { id: "run_x", attempt: 2 },
        task: { id: "t", exportName: "t", kind: "task" },
        session: { id: "sess_x" },
        workspace: "/w",
        entry: "/e.js",
        payload: null,
        metadata: { fromAttempt1: true },
      },
      async (m) => {
        frames.push(m)
      },
    )
    setCurrentRun(host)
    expect(Object.isFrozen(host)).toBe(true)
    expect(metadata.get("fromAttempt1")).toBe(true)
    metadata.decrement("left", 2)
    streams.append("s", "x")
    expect(
      await streams.pipe(
        "s",
        (async function* () {
          yield 1
          yield 2
        })(),
      ),
    ).toBe(2)
    await flush()
    expect(frames).toContainEqual({ type: "stream", name: "s", chunks: ['"x"', "1", "2"] })
    expect(frames).toContainEqual({
      type: "metadata",
      metadata: { fromAttempt1: true, left: -2 },
    })
  })

  test("the host is shared through globalThis, as a bundle's own SDK copy finds it", () => {
    const fake = { version: 1 } as unknown as RunHost
    setCurrentRun(fake)
    expect((globalThis as Record<symbol, unknown>)[Symbol.for("helmr.sdk.currentRun")]).toBe(fake)
  })
})
