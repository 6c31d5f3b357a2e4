import { expect, test } from "bun:test"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { gzipSync } from "node:zlib"

/**
 * `@helmr/sdk/client` is for browsers and edge functions too: `createClient` alone, bundled for
 * the browser, minified and gzipped, must stay within 20 KB, and it may import nothing but web
 * standards (and zod). The contract's zod schemas would blow the budget (~30 KB): the client
 * imports only their types.
 */
const BUDGET_BYTES = 20 * 1024
const SDK = join(import.meta.dir, "..")

test("createClient alone is at most 20 KB minified and gzipped, and imports only web standards", async () => {
  const dir = await mkdtemp(join(tmpdir(), "helmr-client-size-"))
  const entry = join(dir, "client-size-entry.ts")
  await Bun.write(
    entry,
    `export { createClient } from ${JSON.stringify(join(SDK, "src/client/index.ts"))}\n`,
  )
  try {
    const result = await Bun.build({
      entrypoints: [entry],
      target: "browser",
      minify: true,
      format: "esm",
      metafile: true,
    })
    expect(result.success).toBe(true)
    const code = new Uint8Array(await result.outputs[0]!.arrayBuffer())
    const gzipped = gzipSync(code, { level: 9 }).length
    console.log(
      `createClient: ${code.length} B minified, ${gzipped} B gzipped (budget ${BUDGET_BYTES} B)`,
    )
    expect(gzipped).toBeLessThanOrEqual(BUDGET_BYTES)

    // Every module in the bundle is the client's own (or zod); nothing from Bun, Node or the
    // rest of the SDK (the authoring API, the CLI, the runtime).
    const inputs = Object.keys(result.metafile!.inputs).map((p) =>
      relative(SDK, join(process.cwd(), p)),
    )
    const foreign = inputs.filter(
      (p) =>
        !p.startsWith("src/client/") &&
        !p.includes("node_modules/zod/") &&
        !p.endsWith("client-size-entry.ts"),
    )
    expect(foreign).toEqual([])
    const imports = Object.values(result.metafile!.inputs).flatMap((i) => i.imports)
    expect(imports.filter((i) => i.external)).toEqual([])
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
