import { existsSync, statSync } from "node:fs"
import { isAbsolute, join, relative, resolve } from "node:path"
import { CliError } from "./errors.ts"

export interface TaskProject {
  /** Absolute path of the project root: the folder holding its package.json. */
  dir: string
  /** Absolute path of the module that exports the tasks. */
  entry: string
}

/** Entry candidates, in order, when package.json has no `main`. */
export const DEFAULT_ENTRIES = ["index.ts", "src/index.ts", "index.js", "src/index.js"]

/**
 * A task project is a folder with a package.json. Its entry — the module whose exports are the
 * tasks — is `--entry`, else package.json's `main`, else the first of index.ts, src/index.ts,
 * index.js, src/index.js.
 */
export async function findTaskProject(
  dirOption: string | undefined,
  entryOption?: string,
): Promise<TaskProject> {
  const dir = resolve(dirOption ?? ".")
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new CliError(`project directory not found: ${dir}`)
  }
  const packagePath = join(dir, "package.json")
  if (!existsSync(packagePath)) {
    throw new CliError(
      `no package.json in ${dir}: run helmr in a task project, or pass --dir <project>`,
    )
  }
  let main: unknown
  try {
    main = ((await Bun.file(packagePath).json()) as { main?: unknown }).main
  } catch (error) {
    throw new CliError(
      `cannot read ${packagePath}: ${error instanceof Error ? error.message : error}`,
    )
  }
  const chosen = entryOption ?? (typeof main === "string" && main !== "" ? main : undefined)
  if (chosen !== undefined) {
    const entry = resolve(dir, chosen)
    if (!existsSync(entry)) {
      const from = entryOption === undefined ? 'package.json "main"' : "--entry"
      throw new CliError(`entry ${chosen} (from ${from}) does not exist in ${dir}`)
    }
    if (relative(dir, entry).startsWith("..") || isAbsolute(relative(dir, entry))) {
      throw new CliError(`entry ${chosen} is outside the project ${dir}`)
    }
    return { dir, entry }
  }
  for (const candidate of DEFAULT_ENTRIES) {
    const entry = join(dir, candidate)
    if (existsSync(entry)) return { dir, entry }
  }
  throw new CliError(
    `no entry found in ${dir}: set "main" in package.json, pass --entry, or create one of ${DEFAULT_ENTRIES.join(", ")}`,
  )
}
