import { KIND, PROBLEMS } from "./brand.ts"
import { DeclarationError } from "./errors.ts"
import { checkProjectPath } from "./validate.ts"

/**
 * A file or directory of the task project, copied into an image by `image().copy()`.
 *
 * @example
 * ```ts
 * const pkg: Source = source.file("package.json") // { kind: "file", path: "package.json" }
 * ```
 */
export interface Source {
  readonly kind: "file" | "dir"
  /** Relative to the task project's root (the folder of its package.json). */
  readonly path: string
}

function makeSource(kind: "file" | "dir", path: string): Source {
  const problem = checkProjectPath(path)
  const problems = problem ? [new DeclarationError(`source.${kind}`, problem)] : []
  return Object.freeze({ kind, path: normalize(path), [KIND]: "source", [PROBLEMS]: problems })
}

function normalize(path: string): string {
  if (typeof path !== "string") return path
  const parts = path.split("/").filter((part) => part !== "" && part !== ".")
  return parts.length === 0 ? "." : parts.join("/")
}

/**
 * Files of the task project to copy into an image. `helmr deploy` uploads them with the
 * deployment and records the content digest of every file, so a changed file rebuilds the image
 * from that step on.
 *
 * @example
 * ```ts
 * import { image, source } from "@helmr/sdk"
 * const runtime = image("review")
 *   .from("node:24-bookworm-slim")
 *   .copy("/workspace/package.json", source.file("package.json"))
 *   .copy("/workspace/scripts", source.dir("scripts"))
 * ```
 */
export const source = {
  /**
   * One file, by its path relative to the task project.
   *
   * @example
   * ```ts
   * image("review").from("oven/bun:1").copy("/workspace/package.json", source.file("package.json"))
   * ```
   */
  file(path: string): Source {
    return makeSource("file", path)
  },
  /**
   * Every file below a directory of the task project (`.git` and `node_modules` are skipped).
   *
   * @example
   * ```ts
   * image("review").from("oven/bun:1").copy("/workspace/prompts", source.dir("prompts"))
   * ```
   */
  dir(path: string): Source {
    return makeSource("dir", path)
  },
} as const
