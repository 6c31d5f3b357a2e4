import { IDENTIFIER_PATTERN } from "../contract/ids.ts"

/**
 * Pure checks of declared values. Each returns a problem sentence, or undefined when the value is
 * fine, so callers can say which task and field it belongs to.
 */

export function checkIdentifier(value: unknown): string | undefined {
  if (typeof value !== "string") return `must be a string, got ${describe(value)}`
  if (!IDENTIFIER_PATTERN.test(value)) {
    return `${JSON.stringify(value)} must match ${IDENTIFIER_PATTERN.source} (letters, digits, '.', '_', '-'; at most 128)`
  }
  return undefined
}

const MEMORY = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti)$/
const UNIT_BYTES = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 } as const
/** Docker refuses less than 6 MiB of memory for a container. */
const MIN_MEMORY_BYTES = 6 * 1024 ** 2

/** `512Mi`, `4Gi`, `1.5Gi` → bytes. Decimal units (`4G`) are refused: they are a common slip. */
export function parseMemory(value: unknown): { bytes: number } | { problem: string } {
  const match = typeof value === "string" ? MEMORY.exec(value) : null
  if (!match) {
    return {
      problem: `${describe(value)} is not a memory size: use a number with Ki, Mi, Gi or Ti (e.g. "512Mi", "4Gi")`,
    }
  }
  const bytes = Math.round(Number(match[1]) * UNIT_BYTES[match[2] as keyof typeof UNIT_BYTES])
  if (bytes < MIN_MEMORY_BYTES) return { problem: `${value} is below the minimum of 6Mi` }
  return { bytes }
}

export function checkCpu(value: unknown): string | undefined {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    return `must be a number of CPUs greater than 0 (e.g. 0.5, 2), got ${describe(value)}`
  }
  return undefined
}

export function checkMaxDuration(value: unknown): string | undefined {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    return `must be a whole number of seconds greater than 0, got ${describe(value)}`
  }
  return undefined
}

export function checkTimezone(value: unknown): string | undefined {
  if (typeof value !== "string" || value === "") return `must be an IANA time zone name`
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: value })
    return undefined
  } catch {
    return `${JSON.stringify(value)} is not an IANA time zone name (e.g. "UTC", "Europe/Paris")`
  }
}

export function checkAbsolutePath(value: unknown): string | undefined {
  if (typeof value !== "string" || !value.startsWith("/")) {
    return `must be an absolute path, got ${describe(value)}`
  }
  return undefined
}

/** A path inside the task project: relative, no `..`, no backslashes. */
export function checkProjectPath(value: unknown): string | undefined {
  if (typeof value !== "string" || value.trim() === "") return "must be a non-empty relative path"
  if (value.startsWith("/") || /^[A-Za-z]:/.test(value)) {
    return `${JSON.stringify(value)} must be relative to the task project, not absolute`
  }
  if (value.includes("\\")) return `${JSON.stringify(value)} must use '/' as separator`
  if (value.split("/").includes("..")) {
    return `${JSON.stringify(value)} must stay inside the task project (no '..')`
  }
  return undefined
}

export function checkEnvName(value: unknown): string | undefined {
  if (typeof value !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
    return `${describe(value)} is not an environment variable name (letters, digits, '_')`
  }
  return undefined
}

export function checkSecretName(value: unknown): string | undefined {
  if (typeof value !== "string" || !/^[A-Za-z_][A-Za-z0-9_]{0,255}$/.test(value)) {
    return `${describe(value)} is not a secret name (letters, digits, '_'; not starting with a digit)`
  }
  return undefined
}

/** A short rendering of a value for messages. */
export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value)
  if (value === undefined) return "nothing"
  if (typeof value === "function") return "a function"
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}
