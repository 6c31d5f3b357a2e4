import { describe, expect, test } from "bun:test"
import type { Manifest } from "@helmr/sdk/contract"
import { buildTargets } from "./build-targets.ts"

const task = (id: string, sandbox: string) => ({
  id,
  kind: "task" as const,
  exportName: id,
  sandbox,
  secrets: [],
  payloadSchema: null,
})
const manifest = (tasks: Manifest["tasks"]): Manifest => ({
  version: 1,
  entry: "index.js",
  tasks,
  sandboxes: [
    { name: "a", image: "base", workspace: "/work", network: "bridge" },
    { name: "b", image: "base", workspace: "/other", network: "bridge" },
    { name: "unused", image: "base", workspace: "/x", network: "bridge" },
  ],
  images: [{ name: "base", from: "helmr-local/bun:1.4.5", steps: [] }],
})

describe("buildTargets", () => {
  const cases: [string, Manifest, ReturnType<typeof buildTargets>][] = [
    [
      "one target per sandbox used, in task order, unused sandboxes skipped",
      manifest([task("t1", "b"), task("t2", "a"), task("t3", "b")]),
      [
        {
          sandbox: "b",
          graph: { name: "base", from: "helmr-local/bun:1.4.5", steps: [] },
          workspace: "/other",
        },
        {
          sandbox: "a",
          graph: { name: "base", from: "helmr-local/bun:1.4.5", steps: [] },
          workspace: "/work",
        },
      ],
    ],
    ["no tasks, nothing to build", manifest([]), []],
    [
      "a task on a sandbox the manifest lacks",
      manifest([task("t1", "ghost")]),
      { error: "sandbox ghost of task t1 is missing" },
    ],
  ]
  for (const [name, input, expected] of cases) {
    test(name, () => expect(buildTargets(input)).toEqual(expected))
  }

  test("a sandbox whose image is missing", () => {
    const m = manifest([task("t1", "a")])
    m.images = []
    expect(buildTargets(m)).toEqual({ error: "image base of sandbox a is missing" })
  })
})
