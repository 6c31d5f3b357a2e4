import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs"
import { basename, dirname, join, resolve } from "node:path"
import packageJson from "../../../package.json" with { type: "json" }
import { CliError, usageError } from "../errors.ts"
import { INIT_HELP } from "../help-commands.ts"
import { DEFAULT_BASE_IMAGE, initFiles } from "../init/templates.ts"
import { type CliContext, parseCommand, printJson } from "./context.ts"

/** `helmr init [dir]`: writes a task project that deploys as it is. Needs no API. */
export async function initCommand(argv: string[], ctx: CliContext): Promise<number> {
  const inv = parseCommand("init", argv, {
    name: { type: "string" },
    "base-image": { type: "string" },
    sdk: { type: "string" },
  })
  if (inv.args.booleans.help) {
    ctx.out.result(INIT_HELP.trimEnd())
    return 0
  }
  const [target = ".", extra] = inv.args.positionals
  if (extra !== undefined) throw usageError(`unexpected argument '${extra}'`, inv.hint)
  const dir = resolve(target)
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new CliError(`${dir} exists and is not a folder`)
  }
  const present = existsSync(dir) ? readdirSync(dir).filter((f) => f !== ".git") : []
  if (present.length > 0) {
    throw new CliError(
      `${dir} is not empty (${present.slice(0, 3).join(", ")}${present.length > 3 ? ", …" : ""}): pick a new folder, e.g. 'helmr init my-tasks'`,
    )
  }
  const name = inv.args.strings.name ?? toPackageName(basename(dir))
  if (!/^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/.test(name)) {
    throw usageError(`'${name}' is not a package name: pass --name <lowercase-name>`, inv.hint)
  }
  const files = initFiles({
    name,
    sdkRange: sdkSpec(inv.args.strings.sdk),
    baseImage: inv.args.strings["base-image"] ?? DEFAULT_BASE_IMAGE,
  })
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  if (inv.json) {
    printJson(ctx, { dir, name, files: Object.keys(files) })
    return 0
  }
  ctx.out.result(`created ${name} in ${dir}: ${Object.keys(files).join(", ")}`)
  ctx.out.result("")
  ctx.out.result("Next:")
  if (target !== ".") ctx.out.result(`  cd ${target}`)
  ctx.out.result("  bun install")
  ctx.out.result("  bunx helmr deploy --env dev --promote")
  ctx.out.result(`  bunx helmr runs trigger hello --payload '{"name":"Ada"}' --follow`)
  return 0
}

/**
 * The dependency spec of @helmr/sdk: this CLI's version from the registry by default; a path to a
 * packed tarball (`bun run sdk:pack` in a Helmr checkout) where the SDK is not on a registry.
 */
function sdkSpec(value: string | undefined): string {
  if (value === undefined) return `^${packageJson.version}`
  if (/^(\.{0,2}\/|[A-Za-z]:\\)/.test(value) || value.endsWith(".tgz")) return `file:${value}`
  return value
}

/** A folder name as an npm package name: lowercase, other characters as '-'. */
function toPackageName(folder: string): string {
  const name = folder
    .toLowerCase()
    .replace(/[^a-z0-9-._~]+/g, "-")
    .replace(/^[-._]+|[-.]+$/g, "")
  return name || "helmr-tasks"
}
