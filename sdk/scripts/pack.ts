#!/usr/bin/env bun
/**
 * Builds @helmr/sdk and packs it with `bun pm pack` into an installable tarball:
 *   bun run sdk:pack [--destination <dir>]   (default: sdk/)
 * Prints the tarball's absolute path on stdout; a project installs it with `bun add <path>`.
 */
import { mkdirSync } from "node:fs"
import { join, resolve } from "node:path"
import { buildSdk } from "./build.ts"

const SDK = join(import.meta.dir, "..")

export async function packSdk(destination: string, log: (line: string) => void): Promise<string> {
  await buildSdk(log)
  mkdirSync(destination, { recursive: true })
  const pack = Bun.spawn([process.execPath, "pm", "pack", "--destination", destination], {
    cwd: SDK,
    stdout: "pipe",
    stderr: "pipe",
  })
  const [stdout, stderr, code] = await Promise.all([
    new Response(pack.stdout).text(),
    new Response(pack.stderr).text(),
    pack.exited,
  ])
  if (code !== 0) throw new Error(`bun pm pack failed (${code}):\n${stdout}${stderr}`)
  const { name, version } = (await Bun.file(join(SDK, "package.json")).json()) as {
    name: string
    version: string
  }
  const tarball = join(destination, `${name.replace(/^@/, "").replace("/", "-")}-${version}.tgz`)
  if (!(await Bun.file(tarball).exists())) {
    throw new Error(`bun pm pack did not write ${tarball}:\n${stdout}${stderr}`)
  }
  return tarball
}

if (import.meta.main) {
  const at = process.argv.indexOf("--destination")
  const destination = resolve(at > 0 ? (process.argv[at + 1] ?? ".") : SDK)
  const tarball = await packSdk(destination, (line) => process.stderr.write(`${line}\n`))
  process.stdout.write(`${tarball}\n`)
}
