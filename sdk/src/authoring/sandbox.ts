import { type ImageGraph, MAX_WARM_SANDBOXES, type SandboxSpec } from "../contract/manifest.ts"
import { KIND, kindOf, PROBLEMS, problemsOf } from "./brand.ts"
import { DeclarationError } from "./errors.ts"
import { describeImage, type Image } from "./image.ts"
import { checkAbsolutePath, checkCpu, checkIdentifier, describe, parseMemory } from "./validate.ts"

/**
 * Binary memory sizes: `"512Mi"`, `"4Gi"`. Decimal units such as `"4G"` are refused.
 *
 * @example
 * ```ts
 * const memory: MemorySize = "4Gi"
 * ```
 */
export type MemorySize = `${number}${"Ki" | "Mi" | "Gi" | "Ti"}`

/**
 * Limits of a sandbox container.
 *
 * @example
 * ```ts
 * sandbox("review").image(runtime).resources({ cpu: 2, memory: "4Gi" })
 * ```
 */
export interface SandboxResources {
  /** CPUs, fractions allowed (`0.5`); greater than 0. */
  cpu: number
  /** Memory limit (swap included): `"512Mi"`, `"4Gi"`. */
  memory: MemorySize
}

declare const hasImage: unique symbol

/**
 * A sandbox: the container a task runs in, from an image, with a workspace volume and limits.
 * `HasImage` is false until `.image()` is called; a task only accepts a sandbox with an image.
 * Every method returns a new sandbox; the original is unchanged.
 *
 * @example
 * ```ts
 * const sb: Sandbox = sandbox("review").image(runtime).workspace("/workspace")
 * ```
 */
export interface Sandbox<HasImage extends boolean = true> {
  readonly name: string
  readonly [hasImage]: HasImage
  /**
   * The image the sandbox starts from.
   *
   * @example
   * ```ts
   * const sb = sandbox("review").image(image("review").from("oven/bun:1"))
   * ```
   */
  image(image: Image): Sandbox<true>
  /**
   * The directory mounted as the session's workspace volume (default `/workspace`).
   *
   * @example
   * ```ts
   * sandbox("review").image(runtime).workspace("/workspace")
   * ```
   */
  workspace(path: string): Sandbox<HasImage>
  /**
   * CPU and memory limits (memory includes swap).
   *
   * @example
   * ```ts
   * sandbox("review").image(runtime).resources({ cpu: 2, memory: "4Gi" })
   * ```
   */
  resources(resources: SandboxResources): Sandbox<HasImage>
  /**
   * Outbound network: `"bridge"` (default, an isolated network of its own) or `"none"`.
   *
   * @example
   * ```ts
   * sandbox("offline").image(runtime).network("none")
   * ```
   */
  network(mode: "bridge" | "none"): Sandbox<HasImage>
  /**
   * Keeps `n` hardened containers of this sandbox started ahead of runs (0 to 32, default 0), so a
   * run starts without waiting for a container. Each serves exactly one run and is then destroyed;
   * secrets and the run's identity reach it only when a run is assigned. A runner's own cap
   * (`HELMR_RUNNER_WARM_MAX`) may grant fewer. Only the current deployment's sandboxes are kept warm.
   *
   * @example
   * ```ts
   * sandbox("review").image(runtime).warm(2)
   * ```
   */
  warm(n: number): Sandbox<HasImage>
}

interface SandboxState {
  name: string
  image: Image | undefined
  workspace: string
  resources: SandboxSpec["resources"]
  network: "bridge" | "none"
  warm: number
  problems: readonly Error[]
}

const states = new WeakMap<object, SandboxState>()

/**
 * Declares a sandbox. Give it an image with `.image()`; optionally a workspace path and resources.
 *
 * @example
 * ```ts
 * import { image, sandbox } from "@helmr/sdk"
 * const sb = sandbox("review")
 *   .image(image("review").from("node:24-bookworm-slim").workdir("/workspace"))
 *   .workspace("/workspace")
 *   .resources({ cpu: 2, memory: "4Gi" })
 * ```
 */
export function sandbox(name: string): Sandbox<false> {
  const problem = checkIdentifier(name)
  return makeSandbox({
    name,
    image: undefined,
    workspace: "/workspace",
    resources: undefined,
    network: "bridge",
    warm: 0,
    problems: problem ? [new DeclarationError("name", problem, undefined, subjectOf(name))] : [],
  }) as Sandbox<false>
}

function subjectOf(name: string): string {
  return `sandbox ${JSON.stringify(name)}`
}

function makeSandbox(state: SandboxState): Sandbox<boolean> {
  /** `found`: problems of `field`, or `[subfield, problem]` pairs. */
  const next = (
    change: Partial<SandboxState>,
    field: string,
    found: (string | [string, string | undefined] | undefined)[],
  ) => {
    const problems = found.flatMap((p) => {
      const [at, problem] = Array.isArray(p) ? p : [field, p]
      return problem === undefined
        ? []
        : [new DeclarationError(at, problem, undefined, subjectOf(state.name))]
    })
    return makeSandbox({ ...state, ...change, problems: [...state.problems, ...problems] })
  }
  const sb = {
    name: state.name,
    image: (image: Image) =>
      next({ image }, "image", [
        kindOf(image) === "image" ? undefined : "must be an image(name).from(ref)",
      ]),
    workspace: (path: string) => next({ workspace: path }, "workspace", [checkAbsolutePath(path)]),
    resources: (resources: SandboxResources) => {
      const memory = parseMemory(resources?.memory)
      const cpuProblem = checkCpu(resources?.cpu)
      return next(
        {
          resources:
            "bytes" in memory && !cpuProblem
              ? { cpu: resources.cpu, memory: resources.memory, memoryBytes: memory.bytes }
              : undefined,
        },
        "resources",
        [
          ["resources.cpu", cpuProblem],
          ["resources.memory", "problem" in memory ? memory.problem : undefined],
        ],
      )
    },
    network: (mode: "bridge" | "none") =>
      next({ network: mode }, "network", [
        mode === "bridge" || mode === "none"
          ? undefined
          : `${describe(mode)}: use "bridge" or "none"`,
      ]),
    warm: (n: number) =>
      next({ warm: n }, "warm", [
        Number.isInteger(n) && n >= 0 && n <= MAX_WARM_SANDBOXES
          ? undefined
          : `must be a whole number from 0 to ${MAX_WARM_SANDBOXES}, got ${describe(n)}`,
      ]),
    [KIND]: "sandbox",
    [PROBLEMS]: state.problems,
  }
  Object.freeze(sb)
  states.set(sb, state)
  return sb as unknown as Sandbox<boolean>
}

/** The sandbox and its image as the manifest stores them; throws its first problem. */
export function describeSandbox(sb: Sandbox): { sandbox: SandboxSpec; image: ImageGraph } {
  const state = states.get(sb)
  if (!state) throw new DeclarationError("sandbox", "must be sandbox(name).image(…)")
  const problem = state.problems[0] ?? (state.image ? problemsOf(state.image)[0] : undefined)
  if (problem) throw problem
  if (!state.image) {
    throw new DeclarationError(
      "image",
      "is missing: call .image(…)",
      undefined,
      subjectOf(state.name),
    )
  }
  const image = describeImage(state.image)
  return {
    sandbox: {
      name: state.name,
      image: image.name,
      workspace: state.workspace,
      ...(state.resources ? { resources: state.resources } : {}),
      network: state.network,
      ...(state.warm > 0 ? { warm: state.warm } : {}),
    },
    image,
  }
}
