import { describe, expect, test } from "bun:test"
import { decodeBuildStatus } from "./buildkit-status.ts"

// Records captured from dockerd 20.10's BuildKit through the Engine API (`moby.buildkit.trace`).
const STARTED =
  "Cp8CCkdzaGEyNTY6NGI1N2JjY2JiNjI5ZGVjOTA4YWQ4MWRjOWVmNjA1MWRmMzMyMjdlMWI1NGM1Yzg2OGNhMGRhNDZkOTM3OWRlMhJHc2hhMjU2OmIzMjdhM2E1NzkzYzlmNjMwZjA0ZDZmMzQzZjg1ODljMGZmYmM1NjVjOWE4MWQ4OGFlM2Y3MTNiZWU3NGNjNzkafVtzdGFnZS0wIDIvM10gUlVOIC0tbW91bnQ9dHlwZT1jYWNoZSxpZD1pNmV4cC1jYWNoZSx0YXJnZXQ9L2NhY2hlIFsiL2Jpbi9zaCIsIi1jIiwiZWNobyBoaSA+IC9jYWNoZS94OyBscyAvY2FjaGU7IGVjaG8gZG9uZSJdKgwI9aaE2AYQx5OOzQE="
const LOG =
  "GmAKR3NoYTI1Njo0YjU3YmNjYmI2MjlkZWM5MDhhZDgxZGM5ZWY2MDUxZGYzMzIyN2UxYjU0YzVjODY4Y2EwZGE0NmQ5Mzc5ZGUyEgwI9aaE2AYQnOqUvwIYASIFZG9uZQo="
const CACHED_FROM =
  "CpkBCkdzaGEyNTY6YjMyN2EzYTU3OTNjOWY2MzBmMDRkNmYzNDNmODU4OWMwZmZiYzU2NWM5YTgxZDg4YWUzZjcxM2JlZTc0Y2M3ORoyW3N0YWdlLTAgMS8zXSBGUk9NIGRvY2tlci5pby9oZWxtci1sb2NhbC9idW46MS40LjUqDAj1poTYBhCHp8XKATIMCPWmhNgGEMSawcwB"

describe("decodeBuildStatus", () => {
  test("reads a started vertex with its name", () => {
    const status = decodeBuildStatus(STARTED)
    expect(status.vertexes).toHaveLength(1)
    const [v] = status.vertexes
    expect(v?.name).toStartWith(
      '[stage-0 2/3] RUN --mount=type=cache,id=i6exp-cache,target=/cache ["/bin/sh"',
    )
    expect(v?.digest).toStartWith("sha256:4b57bc")
    expect(v?.started).toBe(true)
    expect(v?.completed).toBe(false)
    expect(status.logs).toEqual([])
  })

  test("reads log output of a vertex", () => {
    const status = decodeBuildStatus(LOG)
    expect(status.logs).toEqual([
      {
        vertex: "sha256:4b57bccbb629dec908ad81dc9ef6051df33227e1b54c5c868ca0da46d9379de2",
        stream: 1,
        message: "done\n",
      },
    ])
  })

  test("reads a completed vertex (no cached flag set here)", () => {
    const [v] = decodeBuildStatus(CACHED_FROM).vertexes
    expect(v?.name).toBe("[stage-0 1/3] FROM docker.io/helmr-local/bun:1.4.5")
    expect(v?.completed).toBe(true)
  })

  test("fails loudly on truncated input", () => {
    expect(() => decodeBuildStatus(LOG.slice(0, 20))).toThrow(/truncated/)
  })
})
