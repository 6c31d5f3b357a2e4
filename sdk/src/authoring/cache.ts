import { KIND, PROBLEMS } from "./brand.ts"
import { DeclarationError } from "./errors.ts"
import { checkIdentifier } from "./validate.ts"

/**
 * A named build cache, mounted into `image().run()` steps; namespaced per project.
 *
 * @example
 * ```ts
 * const bunCache: Cache = cache("review-bun")
 * ```
 */
export interface Cache {
  readonly name: string
}

/**
 * A named build cache for `image().run(argv, { cache })`: the directory survives between builds
 * (a `RUN --mount=type=cache`), so package downloads are reused. Caches are namespaced per
 * project: one project can never read another's.
 *
 * @example
 * ```ts
 * import { cache, image } from "@helmr/sdk"
 * image("review")
 *   .from("oven/bun:1")
 *   .run(["bun", "install"], {
 *     cache: [{ mountPath: "/root/.bun/install/cache", cache: cache("review-bun") }],
 *   })
 * ```
 */
export function cache(name: string): Cache {
  const problem = checkIdentifier(name)
  const problems = problem ? [new DeclarationError("cache", problem)] : []
  return Object.freeze({ name, [KIND]: "cache", [PROBLEMS]: problems })
}
