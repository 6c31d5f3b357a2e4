import { usageError } from "./errors.ts"

/** A flag of a subcommand: `--name <value>` (string) or `--name` (boolean). */
export interface FlagSpec {
  type: "string" | "boolean"
  short?: string
}

export interface ParsedArgs {
  positionals: string[]
  strings: Record<string, string>
  booleans: Record<string, boolean>
}

/**
 * A small argv parser: `--flag value`, `--flag=value`, `-f value`, boolean `--flag`, `--` ends
 * flags. Unknown flags and missing values are usage errors that point at `--help`.
 */
export function parseArgs(
  argv: readonly string[],
  flags: Record<string, FlagSpec>,
  helpHint: string,
): ParsedArgs {
  const out: ParsedArgs = { positionals: [], strings: {}, booleans: {} }
  const byShort = new Map(
    Object.entries(flags).flatMap(([name, spec]) => (spec.short ? [[spec.short, name]] : [])),
  )
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === "--") {
      out.positionals.push(...argv.slice(i + 1))
      break
    }
    if (!arg.startsWith("-") || arg === "-") {
      out.positionals.push(arg)
      continue
    }
    const long = arg.startsWith("--")
    const [rawName, inline] = long ? splitOnce(arg.slice(2), "=") : [arg.slice(1), undefined]
    const name = long ? rawName : byShort.get(rawName)
    const spec = name === undefined ? undefined : flags[name]
    if (name === undefined || !spec) throw usageError(`unknown option '${arg}'`, helpHint)
    if (spec.type === "boolean") {
      if (inline !== undefined) throw usageError(`option '--${name}' takes no value`, helpHint)
      out.booleans[name] = true
      continue
    }
    const value = inline ?? argv[++i]
    // A lone "-" is a value (stdin), not a flag.
    if (value === undefined || (inline === undefined && value.startsWith("-") && value !== "-")) {
      throw usageError(`option '--${name}' needs a value`, helpHint)
    }
    out.strings[name] = value
  }
  return out
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator)
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)]
}
