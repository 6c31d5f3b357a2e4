#!/usr/bin/env bun
/**
 * Builds @helmr/sdk into dist/: ESM JavaScript by Bun.build, declarations by tsc. `bun run
 * sdk:build` from the repository root. zod stays external: it is a peer dependency, so a project
 * and the SDK share one zod (schemas made by one copy are not understood by another).
 *
 *   dist/index.js, client/index.js, contract/index.js, runtime/protocol.js  portable (any runtime)
 *   dist/cli/main.js, cli/extract-entry.js, runtime/entry.js                  Bun (the CLI, the sandbox)
 */
import { chmod, rm } from "node:fs/promises"
import { join } from "node:path"

const SDK = join(import.meta.dir, "..")
const DIST = join(SDK, "dist")
const src = (path: string) => join(SDK, "src", path)

async function bundle(options: {
  entrypoints: string[]
  target: "browser" | "bun"
  splitting: boolean
}): Promise<void> {
  const result = await Bun.build({
    entrypoints: options.entrypoints,
    root: join(SDK, "src"),
    outdir: DIST,
    target: options.target,
    format: "esm",
    splitting: options.splitting,
    sourcemap: "linked",
    external: ["zod", "zod/*"],
    naming: { entry: "[dir]/[name].[ext]", chunk: "chunks/[name]-[hash].[ext]" },
    throw: false,
  })
  if (!result.success) {
    for (const log of result.logs) console.error(log)
    throw new Error(`sdk build (${options.target}) failed`)
  }
}

export async function buildSdk(log: (line: string) => void = console.log): Promise<string> {
  const started = performance.now()
  await rm(DIST, { recursive: true, force: true })
  // Portable entries: no Bun or Node API, so Node, Deno, browsers and workers can load them.
  await bundle({
    entrypoints: [
      src("index.ts"),
      src("client/index.ts"),
      src("contract/index.ts"),
      src("runtime/protocol.ts"),
    ],
    target: "browser",
    // Shared chunks: an app importing both `.` and `./client` loads the client code once.
    splitting: true,
  })
  // The CLI and the in-sandbox runtime run on Bun.
  await bundle({
    entrypoints: [src("cli/main.ts"), src("cli/extract-entry.ts"), src("runtime/entry.ts")],
    target: "bun",
    // One file each: they run as separate processes, and the CLI finds extract-entry.js beside it.
    splitting: false,
  })
  const main = join(DIST, "cli/main.js")
  const text = await Bun.file(main).text()
  if (!text.startsWith("#!")) await Bun.write(main, `#!/usr/bin/env bun\n${text}`)
  await chmod(main, 0o755)
  const tsc = Bun.spawn([process.execPath, "x", "tsc", "-p", join(SDK, "tsconfig.build.json")], {
    cwd: SDK,
    stdout: "inherit",
    stderr: "inherit",
    env: { ...process.env, BUN_BE_BUN: "1" },
  })
  if ((await tsc.exited) !== 0) throw new Error("sdk declarations (tsc) failed")
  await rewriteDeclarationImports()
  log(`sdk: built ${DIST} in ${((performance.now() - started) / 1000).toFixed(1)}s`)
  return DIST
}

/**
 * tsc keeps the sources' `./x.ts` specifiers in declarations; consumers resolving with `node16`
 * expect the emitted `./x.js`, so the relative specifiers are rewritten.
 */
async function rewriteDeclarationImports(): Promise<void> {
  for await (const path of new Bun.Glob("**/*.d.ts").scan({ cwd: DIST, absolute: true })) {
    const text = await Bun.file(path).text()
    const next = text.replace(
      /((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']+)\.ts(["'])/g,
      "$1$2.js$3",
    )
    if (next !== text) await Bun.write(path, next)
  }
}

if (import.meta.main) await buildSdk()
