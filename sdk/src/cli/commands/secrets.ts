import { DeletedSecret, Secret, SecretList, SecretName } from "../../contract/secrets.ts"
import { callApi } from "../api.ts"
import { CliError, usageError } from "../errors.ts"
import { SECRETS_HELP } from "../help-commands.ts"
import {
  type CliContext,
  connect,
  type Invocation,
  noPositionals,
  onePositional,
  parseCommand,
  printJson,
  printTable,
  seg,
} from "./context.ts"

/** `helmr secrets set|list|delete`. Values go in through stdin only and never come back out. */
export async function secretsCommand(argv: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = argv
  switch (sub) {
    case undefined:
    case "help":
    case "-h":
    case "--help":
      ctx.out.result(SECRETS_HELP.trimEnd())
      return 0
    case "set":
      return set(rest, ctx)
    case "list":
      return list(rest, ctx)
    case "delete":
      return remove(rest, ctx)
    default:
      throw usageError(`unknown secrets command '${sub}'`, "Run 'helmr secrets --help' for usage.")
  }
}

function helped(inv: Invocation, ctx: CliContext): boolean {
  if (inv.args.booleans.help) ctx.out.result(SECRETS_HELP.trimEnd())
  return inv.args.booleans.help === true
}

function secretName(inv: Invocation): string {
  const name = onePositional(inv, "the secret name (e.g. OPENAI_API_KEY)")
  const parsed = SecretName.safeParse(name)
  if (!parsed.success) {
    throw usageError(`'${name}' is not a secret name: ${parsed.error.issues[0]?.message}`, inv.hint)
  }
  return name
}

async function set(argv: string[], ctx: CliContext): Promise<number> {
  const inv = parseCommand("secrets set", argv)
  if (helped(inv, ctx)) return 0
  const name = secretName(inv)
  const { config, who } = await connect(ctx, inv)
  // One trailing newline is what `echo` and a terminal add; anything else is the value.
  const value = (await ctx.readStdin()).replace(/\r?\n$/, "")
  if (value === "")
    throw new CliError(
      `no value on stdin for ${name}: pipe it in, e.g. 'printf %s "$VALUE" | helmr secrets set ${name}'`,
    )
  const { body } = await callApi(
    config,
    { method: "PUT", path: `/secrets/${seg(name)}`, body: { value } },
    Secret,
  )
  if (inv.json) printJson(ctx, body)
  else ctx.out.result(`${body.name} set in ${who.environment.slug}`)
  return 0
}

async function list(argv: string[], ctx: CliContext): Promise<number> {
  const inv = parseCommand("secrets list", argv)
  if (helped(inv, ctx)) return 0
  noPositionals(inv)
  const { config, who } = await connect(ctx, inv)
  const { body } = await callApi(config, { method: "GET", path: "/secrets" }, SecretList)
  if (inv.json) {
    printJson(ctx, body)
    return 0
  }
  if (body.data.length === 0) {
    ctx.out.result(`no secrets in ${who.environment.slug}`)
    return 0
  }
  printTable(
    ctx,
    ["NAME", "UPDATED"],
    body.data.map((s) => [s.name, s.updatedAt]),
  )
  return 0
}

async function remove(argv: string[], ctx: CliContext): Promise<number> {
  const inv = parseCommand("secrets delete", argv)
  if (helped(inv, ctx)) return 0
  const name = secretName(inv)
  const { config, who } = await connect(ctx, inv)
  const { body } = await callApi(
    config,
    { method: "DELETE", path: `/secrets/${seg(name)}` },
    DeletedSecret,
  )
  if (inv.json) printJson(ctx, body)
  else ctx.out.result(`${body.name} deleted from ${who.environment.slug}`)
  return 0
}
