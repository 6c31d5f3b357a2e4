import { describe, expect, test } from "bun:test"
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createTar } from "./tar.ts"

describe("createTar", () => {
  test("GNU tar extracts short and long paths with their content and mode", () => {
    const long = `${"deep/".repeat(30)}file.txt`
    const tar = createTar([
      { path: "Dockerfile", content: new TextEncoder().encode("FROM x\n") },
      { path: long, content: new Uint8Array(1000).fill(65), mode: 0o755 },
      { path: "empty", content: new Uint8Array(0) },
    ])
    expect(tar.length % 512).toBe(0)
    const dir = mkdtempSync(join(tmpdir(), "i6-tar-"))
    try {
      const result = Bun.spawnSync(["tar", "-x", "-C", dir], { stdin: tar })
      expect(result.exitCode).toBe(0)
      expect(readFileSync(join(dir, "Dockerfile"), "utf8")).toBe("FROM x\n")
      expect(readFileSync(join(dir, long), "utf8")).toBe("A".repeat(1000))
      expect(statSync(join(dir, long)).mode & 0o777).toBe(0o755)
      expect(statSync(join(dir, "empty")).size).toBe(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test("refuses paths that climb out of the archive", () => {
    expect(() => createTar([{ path: "a/../../etc/passwd", content: new Uint8Array() }])).toThrow(
      /unsafe tar path/,
    )
  })
})
