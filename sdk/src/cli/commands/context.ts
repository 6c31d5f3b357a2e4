import { type FlagSpec, type ParsedArgs, parseArgs } from "../args.ts"
import { type CliConfig, readConfig } from "../config.ts"
import { checkEnvironment, type WhoAmI, whoAmI } from "../environment.ts"
import { usageError } from "../errors.ts"
import type { Output } from "../output.ts"

/** What a command gets besides its arguments: the environment, where to write, stdin. */
export interface CliContext {
  env: Record<string, string | undefined>
  out: Output
  /** All of stdin (secrets set). */
  readStdin(): Promise<string>
  /** Aborts long-running commands (`dev`, `runs logs --follow`): SIGINT in the real CLI. */
  signal: AbortSignal
}

export const HELP: FlagSpec = { type: "boolean", short: "h" }
export const ENV: FlagSpec = { type: "string", short: "e" }
export const JSON_FLAG: FlagSpec = { type: "boolean" }

/** Flags every API command takes: --help, --env, --json. */
export const COMMON = { help: HELP, env: ENV, json: JSON_FLAG } as const

export interface Invocation {
  args: ParsedArgs
  hint: string
  json: boolean
}

/** Parses a subcommand's argv with the common flags plus its own. */
export function parseCommand(
  name: string,
  argv: readonly string[],
  flags: Record<string, FlagSpec> = {},
): Invocation {
  const hint = `Run 'helmr ${name} --help' for usage.`
  const args = parseArgs(argv, { ...COMMON, ...flags }, hint)
  return { args, hint, json: args.booleans.json === true }
}

/** The one positional a command needs, refusing a missing or an extra one. */
export function onePositional(inv: Invocation, what: string): string {
  const [value, extra] = inv.args.positionals
  if (value === undefined || value === "") throw usageError(`missing ${what}`, inv.hint)
  if (extra !== undefined) throw usageError(`unexpected argument '${extra}'`, inv.hint)
  return value
}

export function noPositionals(inv: Invocation): void {
  const [extra] = inv.args.positionals
  if (extra !== undefined) throw usageError(`unexpected argument '${extra}'`, inv.hint)
}

/**
 * The API configuration and the key's environment. `--env` is optional outside deploy and
 * promote; when given it must be the key's environment, so a command meant for dev can never act
 * on prod by a mix-up of keys.
 */
export async function connect(
  ctx: CliContext,
  inv: Invocation,
): Promise<{ config: CliConfig; who: WhoAmI }> {
  const config = readConfig(ctx.env)
  const env = inv.args.strings.env
  if (env !== undefined) checkEnvName(env, inv.hint)
  const who = env === undefined ? await whoAmI(config) : await checkEnvironment(config, env)
  return { config, who }
}

export function checkEnvName(value: string, hint: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(value)) {
    throw usageError(
      `--env '${value}' is not an environment name (lowercase letters, digits, '-')`,
      hint,
    )
  }
  return value
}

/** A whole number flag in [min, max], or the default. */
export function intFlag(
  inv: Invocation,
  name: string,
  range: { min: number; max: number; default?: number },
): number | undefined {
  const raw = inv.args.strings[name]
  if (raw === undefined) return range.default
  const value = Number(raw)
  if (!/^\d+$/.test(raw) || value < range.min || value > range.max) {
    throw usageError(`--${name} must be a whole number from ${range.min} to ${range.max}`, inv.hint)
  }
  return value
}

/** `a,b,c` → ["a", "b", "c"] (empty parts dropped). */
export function listFlag(inv: Invocation, name: string): string[] | undefined {
  const raw = inv.args.strings[name]
  if (raw === undefined) return undefined
  return raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
}

/** Prints JSON (for --json) on stdout. */
export function printJson(ctx: CliContext, value: unknown): void {
  ctx.out.result(JSON.stringify(value, null, 2))
}

/** Prints rows as aligned columns, header first (scripts use --json). */
export function printTable(ctx: CliContext, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd()
  ctx.out.result(line(header))
  for (const row of rows) ctx.out.result(line(row))
}

/** A path segment, encoded. */
export const seg = (value: string) => encodeURIComponent(value)
