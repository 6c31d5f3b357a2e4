import { describe, expect, test } from "bun:test"
import { ImageGraph } from "@helmr/sdk/contract"
import { cacheMountId, ImageGraphError, renderCodeLayer, renderDockerfile } from "./dockerfile.ts"
import { codeLayerDigest, graphDigest } from "./image-hash.ts"

const d = (c: string) => `sha256:${c.repeat(64)}`

const review = ImageGraph.parse({
  name: "review",
  from: "helmr-local/bun:1.4.5",
  steps: [
    { op: "workdir", path: "/workspace" },
    { op: "env", name: "GREETING", value: 'say "hi" $HOME' },
    {
      op: "copy",
      dest: "/workspace/package.json",
      source: { kind: "file", path: "package.json" },
      files: [{ path: "package.json", digest: d("a") }],
    },
    {
      op: "run",
      argv: ["bun", "install"],
      cache: [{ mountPath: "/root/.bun/install/cache", cache: "review-bun" }],
    },
    {
      op: "copy",
      dest: "/workspace/src",
      source: { kind: "dir", path: "./src/" },
      files: [
        { path: "src/a.ts", digest: d("b") },
        { path: "src/lib/b.ts", digest: d("c") },
      ],
    },
  ],
})

describe("renderDockerfile", () => {
  test("renders each step in exec form with project-namespaced cache mounts", () => {
    const plan = renderDockerfile(review, { projectId: "proj_1" })
    expect(plan.dockerfile).toBe(
      [
        "FROM helmr-local/bun:1.4.5",
        "WORKDIR /workspace",
        'ENV GREETING="say \\"hi\\" \\$HOME"',
        `COPY ["files/${"a".repeat(64)}","/workspace/package.json"]`,
        'RUN --mount=type=cache,id=helmr-proj_1-review-bun,target=/root/.bun/install/cache,sharing=locked ["bun","install"]',
        'COPY ["dirs/4/","/workspace/src/"]',
        "",
      ].join("\n"),
    )
    expect(plan.files).toEqual([
      { contextPath: `files/${"a".repeat(64)}`, digest: d("a") },
      { contextPath: "dirs/4/a.ts", digest: d("b") },
      { contextPath: "dirs/4/lib/b.ts", digest: d("c") },
    ])
    expect(plan.instructions).toHaveLength(5)
  })

  test("two projects never share a cache id", () => {
    expect(cacheMountId("proj_1", "c")).not.toBe(cacheMountId("proj_2", "c"))
    const other = renderDockerfile(review, { projectId: "proj_2" })
    expect(other.dockerfile).toContain("id=helmr-proj_2-review-bun,")
  })

  test("refuses values that could inject instructions or options", () => {
    const bad = (patch: object) =>
      ImageGraph.parse({ ...review, steps: [{ ...patch }] } as unknown as ImageGraph)
    const render = (g: ImageGraph) => () => renderDockerfile(g, { projectId: "p" })
    expect(render(bad({ op: "workdir", path: "/a\nRUN evil" }))).toThrow(ImageGraphError)
    expect(
      render(bad({ op: "run", argv: ["x"], cache: [{ mountPath: "/c,type=bind", cache: "c" }] })),
    ).toThrow(/cache mountPath/)
    expect(render(bad({ op: "env", name: "A", value: "x\nRUN evil" }))).toThrow(/one line/)
    expect(render(ImageGraph.parse({ ...review, from: "bun\nRUN evil" }))).toThrow(/reference/)
    expect(() =>
      renderDockerfile(ImageGraph.parse({ ...review, from: "helmr/img:abc" }), {
        projectId: "p",
        reservedRepos: ["helmr/img"],
      }),
    ).toThrow(/not bases/)
  })

  test("the code layer owns the workspace for the sandbox user and adds /helmr", () => {
    expect(renderCodeLayer("helmr/img:x", "/workspace")).toBe(
      [
        "FROM helmr/img:x",
        "WORKDIR /workspace",
        'RUN ["chown","-R","1000:1000","/workspace"]',
        'COPY ["helmr/","/helmr/"]',
        "",
      ].join("\n"),
    )
  })
})

describe("graphDigest", () => {
  test("equal graphs hash equal; any step, file digest, base or project change rehashes", () => {
    const base = graphDigest(review, "proj_1")
    expect(graphDigest(ImageGraph.parse(JSON.parse(JSON.stringify(review))), "proj_1")).toBe(base)
    expect(graphDigest(review, "proj_2")).not.toBe(base)
    expect(graphDigest({ ...review, from: "helmr-local/bun:1.4.6" }, "proj_1")).not.toBe(base)
    const changedFile = structuredClone(review)
    const copy = changedFile.steps[2]
    if (copy?.op !== "copy") throw new Error("fixture")
    copy.files = [{ path: "package.json", digest: d("f") }]
    expect(graphDigest(changedFile, "proj_1")).not.toBe(base)
    // The graph's name is a label only: renaming does not rebuild.
    expect(graphDigest({ ...review, name: "other" }, "proj_1")).toBe(base)
  })

  test("code layer digest follows the bundle and the runtime", () => {
    const input = {
      graphTag: "t",
      workspace: "/w",
      runtimeDigest: "r",
      bundleDigest: "b",
      entry: "index.js",
    }
    expect(codeLayerDigest(input)).toBe(codeLayerDigest({ ...input }))
    expect(codeLayerDigest({ ...input, bundleDigest: "b2" })).not.toBe(codeLayerDigest(input))
    expect(codeLayerDigest({ ...input, runtimeDigest: "r2" })).not.toBe(codeLayerDigest(input))
  })
})
