/**
 * Declarations are recognised by registered symbols, not `instanceof`: the deployed bundle carries
 * its own copy of the SDK, and `helmr deploy` (another copy) must still recognise its tasks.
 */
export const KIND = Symbol.for("helmr.sdk.kind")
/** A task's `() => TaskDescription`, computed by the SDK copy that declared it. */
export const DESCRIBE = Symbol.for("helmr.sdk.describe")
/** Problems found while building a sandbox, image, cache or source, thrown by the task using it. */
export const PROBLEMS = Symbol.for("helmr.sdk.problems")
/** globalThis slot listing the task registry of every SDK copy loaded in a process. */
export const REGISTRY = Symbol.for("helmr.sdk.registries")

export type DeclarationKind = "task" | "sandbox" | "image" | "cache" | "source"

export function kindOf(value: unknown): DeclarationKind | undefined {
  if ((typeof value !== "object" && typeof value !== "function") || value === null) return undefined
  const kind = (value as { [KIND]?: unknown })[KIND]
  return typeof kind === "string" ? (kind as DeclarationKind) : undefined
}

/** The problems a builder recorded (none when the value is not a declaration). */
export function problemsOf(value: unknown): readonly Error[] {
  if ((typeof value !== "object" && typeof value !== "function") || value === null) return []
  const problems = (value as { [PROBLEMS]?: unknown })[PROBLEMS]
  return Array.isArray(problems) ? problems : []
}
