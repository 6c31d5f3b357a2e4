import { readConfig } from "../config.ts"
import { usageError } from "../errors.ts"
import { DEV_HELP, WHOAMI_HELP } from "../help-commands.ts"
import {
  type CliContext,
  checkEnvName,
  connect,
  noPositionals,
  parseCommand,
  printJson,
} from "./context.ts"
import { dev } from "./dev.ts"

/** `helmr whoami`: the key's project and environment, and the API it talks to. */
export async function whoamiCommand(argv: string[], ctx: CliContext): Promise<number> {
  const inv = parseCommand("whoami", argv)
  if (inv.args.booleans.help) {
    ctx.out.result(WHOAMI_HELP.trimEnd())
    return 0
  }
  noPositionals(inv)
  const { config, who } = await connect(ctx, inv)
  if (inv.json) printJson(ctx, { ...who, apiUrl: config.apiUrl })
  else {
    ctx.out.result(`project:     ${who.projectId}`)
    ctx.out.result(`environment: ${who.environment.slug} (${who.environment.id})`)
    ctx.out.result(`api:         ${config.apiUrl}`)
  }
  return 0
}

/** `helmr dev`: see commands/dev.ts. */
export async function devCommand(argv: string[], ctx: CliContext): Promise<number> {
  const inv = parseCommand("dev", argv, {
    dir: { type: "string", short: "d" },
    entry: { type: "string" },
    "allow-missing-secrets": { type: "boolean" },
  })
  if (inv.args.booleans.help) {
    ctx.out.result(DEV_HELP.trimEnd())
    return 0
  }
  const [extra] = inv.args.positionals
  if (extra !== undefined) throw usageError(`unexpected argument '${extra}'`, inv.hint)
  const env = checkEnvName(inv.args.strings.env ?? "dev", inv.hint)
  const config = readConfig(ctx.env)
  return dev(
    config,
    {
      env,
      dir: inv.args.strings.dir,
      entry: inv.args.strings.entry,
      json: inv.json,
      allowMissingSecrets: inv.args.booleans["allow-missing-secrets"] === true,
    },
    ctx,
  )
}
