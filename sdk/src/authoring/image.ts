import type { ImageGraph, ImageStep } from "../contract/manifest.ts"
import { KIND, kindOf, PROBLEMS, problemsOf } from "./brand.ts"
import type { Cache } from "./cache.ts"
import { DeclarationError } from "./errors.ts"
import type { Source } from "./source.ts"
import { checkAbsolutePath, checkEnvName, checkIdentifier, describe } from "./validate.ts"

/**
 * A cache mounted at `mountPath` while a `run` step executes.
 *
 * @example
 * ```ts
 * const mount: CacheMountOption = { mountPath: "/root/.bun/install/cache", cache: cache("review-bun") }
 * ```
 */
export interface CacheMountOption {
  mountPath: string
  cache: Cache
}

/**
 * Options of an image `run` step.
 *
 * @example
 * ```ts
 * image("review").from("oven/bun:1").run(["bun", "install"], { cache: [mount] })
 * ```
 */
export interface RunStepOptions {
  /** Build caches mounted during this step (`RUN --mount=type=cache`). */
  cache?: readonly CacheMountOption[]
}

/**
 * `image(name)` before `.from()`: a base image comes first.
 *
 * @example
 * ```ts
 * const start: ImageStart = image("review")
 * const runtime: Image = start.from("node:24-bookworm-slim")
 * ```
 */
export interface ImageStart {
  readonly name: string
  /**
   * The base image reference (`node:24-bookworm-slim`, `registry.example.com/team/base:1`).
   *
   * @example
   * ```ts
   * const runtime = image("review").from("node:24-bookworm-slim")
   * ```
   */
  from(reference: string): Image
}

/**
 * An image graph: a base reference and ordered steps, built by the runner with BuildKit and tagged
 * by a chained content hash, so an unchanged graph is never rebuilt. Every method returns a new
 * image; the original is unchanged.
 *
 * @example
 * ```ts
 * const runtime: Image = image("review").from("node:24-bookworm-slim").workdir("/workspace")
 * ```
 */
export interface Image {
  readonly name: string
  readonly base: string
  /**
   * Sets the working directory of the following steps (`WORKDIR`).
   *
   * @example
   * ```ts
   * image("review").from("oven/bun:1").workdir("/workspace")
   * ```
   */
  workdir(path: string): Image
  /**
   * Sets an environment variable for the following steps and the sandbox (`ENV`). Not for secrets:
   * image layers are not secret; declare `secrets` on the task instead.
   *
   * @example
   * ```ts
   * image("review").from("oven/bun:1").env("NODE_ENV", "production")
   * ```
   */
  env(name: string, value: string): Image
  /**
   * Runs a command while building (`RUN`, exec form), with optional build caches.
   *
   * @example
   * ```ts
   * image("review")
   *   .from("oven/bun:1")
   *   .run(["bun", "install"], {
   *     cache: [{ mountPath: "/root/.bun/install/cache", cache: cache("review-bun") }],
   *   })
   * ```
   */
  run(argv: readonly string[], options?: RunStepOptions): Image
  /**
   * Copies a file or directory of the task project into the image (`COPY`).
   *
   * @example
   * ```ts
   * image("review").from("oven/bun:1").copy("/workspace/package.json", source.file("package.json"))
   * ```
   */
  copy(dest: string, from: Source): Image
}

/** Builder state, kept out of the public object. */
const states = new WeakMap<object, ImageState>()

interface ImageState {
  name: string
  base: string
  steps: readonly ImageStep[]
  problems: readonly Error[]
}

/**
 * Starts an image graph. Chain `.from(ref)` first, then `.workdir()`, `.env()`, `.run()` and
 * `.copy()` steps in order; give the result to `sandbox(name).image()`.
 *
 * @example
 * ```ts
 * import { cache, image, source } from "@helmr/sdk"
 * const runtime = image("review")
 *   .from("node:24-bookworm-slim")
 *   .workdir("/workspace")
 *   .copy("/workspace/package.json", source.file("package.json"))
 *   .run(["bun", "install"], {
 *     cache: [{ mountPath: "/root/.bun/install/cache", cache: cache("review-bun") }],
 *   })
 * ```
 */
export function image(name: string): ImageStart {
  const problem = checkIdentifier(name)
  const subject = `image ${JSON.stringify(name)}`
  const problems = problem ? [new DeclarationError("name", problem, undefined, subject)] : []
  return {
    name,
    from(reference: string): Image {
      const bad = typeof reference !== "string" || reference.trim() === "" || /\s/.test(reference)
      const more = bad
        ? [
            new DeclarationError(
              "from",
              `${describe(reference)} is not an image reference`,
              undefined,
              subject,
            ),
          ]
        : []
      return makeImage({ name, base: reference, steps: [], problems: [...problems, ...more] })
    },
  }
}

function makeImage(state: ImageState): Image {
  const subject = `image ${JSON.stringify(state.name)}`
  const add = (step: ImageStep, found: (string | Error | undefined)[], field: string): Image => {
    const problems = found.flatMap((item) =>
      item === undefined
        ? []
        : item instanceof Error
          ? [item]
          : [new DeclarationError(field, item, undefined, subject)],
    )
    return makeImage({
      ...state,
      steps: [...state.steps, step],
      problems: [...state.problems, ...problems],
    })
  }
  const image = {
    name: state.name,
    base: state.base,
    workdir: (path: string) => add({ op: "workdir", path }, [checkAbsolutePath(path)], "workdir"),
    env: (name: string, value: string) =>
      add(
        { op: "env", name, value },
        [checkEnvName(name), typeof value === "string" ? undefined : "value must be a string"],
        "env",
      ),
    run: (argv: readonly string[], options: RunStepOptions = {}) => {
      const mounts = options.cache ?? []
      const argvOk =
        Array.isArray(argv) && argv.length > 0 && argv.every((a) => typeof a === "string")
      return add(
        {
          op: "run",
          argv: argvOk ? [...argv] : [],
          cache: mounts.map((m) => ({ mountPath: m.mountPath, cache: m.cache?.name })),
        },
        [
          argvOk ? undefined : "argv must be a non-empty array of strings (exec form)",
          ...mounts.map((m) => checkMount(m)),
          ...mounts.flatMap((m) => [...problemsOf(m.cache)].map((e) => withSubject(e, subject))),
        ],
        "run",
      )
    },
    copy: (dest: string, from: Source) =>
      add(
        {
          op: "copy",
          dest,
          source: { kind: from?.kind, path: from?.path },
          files: [],
        },
        [
          checkAbsolutePath(dest),
          kindOf(from) === "source"
            ? undefined
            : "the source must be source.file() or source.dir()",
          ...[...problemsOf(from)].map((e) => withSubject(e, subject)),
        ],
        "copy",
      ),
    [KIND]: "image",
    [PROBLEMS]: state.problems,
  }
  Object.freeze(image)
  states.set(image, state)
  return image
}

function checkMount(mount: CacheMountOption): string | undefined {
  if (kindOf(mount?.cache) !== "cache") return "each cache mount needs cache: cache(name)"
  const path = checkAbsolutePath(mount.mountPath)
  return path ? `cache mountPath ${path}` : undefined
}

function withSubject(error: Error, subject: string): Error {
  return error instanceof DeclarationError && error.subject === undefined
    ? new DeclarationError(error.field, error.problem, undefined, subject)
    : error
}

/** The graph as the manifest stores it; copy steps get their files and digests at deploy. */
export function describeImage(image: Image): ImageGraph {
  const state = states.get(image)
  if (!state) throw new TypeError("not an image made by image(name).from(ref)")
  return { name: state.name, from: state.base, steps: state.steps.map((step) => ({ ...step })) }
}
