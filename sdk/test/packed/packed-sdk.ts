import { rmSync } from "node:fs"
import { mkdtemp } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { packSdk } from "../../scripts/pack.ts"

/**
 * The SDK as a user gets it: built, packed with `bun pm pack`, and installed from the tarball into
 * a project in a temporary folder outside the repository (zod from the npm registry). Packed once
 * per test process: every test file of a run shares the tarball.
 */
export const ZOD_VERSION = "4.6.7"

let packed: Promise<string> | undefined

/** The path of the packed tarball (built on first use). */
export function packedSdk(): Promise<string> {
  packed ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), "helmr-sdk-pack-"))
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }))
    return packSdk(dir, () => {})
  })()
  return packed
}

/** Runs a command; resolves with its output, throws with it on a non-zero exit. */
export async function run(
  argv: string[],
  options: { cwd: string; env?: Record<string, string | undefined>; stdin?: string } = {
    cwd: ".",
  },
): Promise<{ stdout: string; stderr: string; code: number }> {
  const child = Bun.spawn(argv, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdin: options.stdin === undefined ? "ignore" : new TextEncoder().encode(options.stdin),
    stdout: "pipe",
    stderr: "pipe",
  })
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ])
  return { stdout, stderr, code }
}

/** `bun add` in `dir`, failing loudly with bun's output. */
export async function bunAdd(dir: string, specs: string[]): Promise<void> {
  const result = await run([process.execPath, "add", ...specs], { cwd: dir })
  if (result.code !== 0) {
    throw new Error(`bun add ${specs.join(" ")} failed:\n${result.stdout}${result.stderr}`)
  }
}

/** A new folder outside the repository with a package.json, the packed SDK and zod installed. */
export async function consumerProject(files: Record<string, string> = {}): Promise<string> {
  const tarball = await packedSdk()
  const dir = await mkdtemp(join(tmpdir(), "helmr-sdk-user-"))
  await Bun.write(
    join(dir, "package.json"),
    JSON.stringify({ name: "helmr-sdk-user", private: true, type: "module" }, null, 2),
  )
  for (const [path, text] of Object.entries(files)) await Bun.write(join(dir, path), text)
  await bunAdd(dir, [tarball, `zod@${ZOD_VERSION}`])
  return dir
}
