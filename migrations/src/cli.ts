#!/usr/bin/env bun
import { z } from "zod"
import { bootstrapProject } from "./bootstrap.ts"
import { ConfigError, configFields, keyringFields, parseConfig } from "./config.ts"
import { createDb } from "./db.ts"
import { checkKeyring, generateEncryptionKey, keyringFromConfig, rotateKeys } from "./keyring.ts"
import { MigrationError, migrate } from "./migrate.ts"
import {
  generatePassword,
  grantOperator,
  type OperatorGrant,
  OperatorInputError,
} from "./operators.ts"

const USAGE = `Usage: helmr-migrate <command> [options]

Commands:
  migrate                      Apply pending migrations (safe to run concurrently and repeatedly)
  bootstrap [--project SLUG]   Create a project with dev, staging and prod environments and print
            [--name NAME]      one API key per environment. Keys are shown once; rerunning creates
            [--json]           nothing new.
            [--operator EMAIL] Also make EMAIL a dashboard operator of every environment.
  operator EMAIL --project SLUG
            [--env dev,prod]   Create a dashboard operator (or add memberships) and make it a
                               member of the project's environments (default: all of them);
                               with HELMR_OPERATOR_PASSWORD set, it resets an existing password.
  generate-key                 Print a new random encryption key (64 hex characters)
  check-keys                   Check the configured encryption keys against the database
  rotate-keys                  Re-seal every secret with the current key; afterwards the retired
                               keys open nothing and can be removed from the configuration

Environment:
  HELMR_DATABASE_URL             postgres://user@host:port/database (required)
  HELMR_ENCRYPTION_KEY           the current key (check-keys, rotate-keys)
  HELMR_ENCRYPTION_KEY_VERSION   its version (default 1; give a new key a new version)
  HELMR_ENCRYPTION_RETIRED_KEYS  version:key,… of older keys still needed to open secrets
  HELMR_OPERATOR_PASSWORD        the operator's password; unset: one is generated and printed once
`

const COMMANDS = ["migrate", "bootstrap", "operator", "generate-key", "check-keys", "rotate-keys"]
const Config = z.object({ HELMR_DATABASE_URL: configFields.databaseUrl })
const KeysConfig = Config.extend(keyringFields)

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name)
  if (i === -1) return undefined
  const value = args[i + 1]
  if (value === undefined || value.startsWith("--")) fail(`${name} needs a value`)
  return value
}

function fail(message: string): never {
  process.stderr.write(`helmr-migrate: ${message}\n`)
  process.exit(2)
}

async function main(args: string[]): Promise<void> {
  const [command, ...rest] = args
  if (!command || command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(USAGE)
    return
  }
  if (!COMMANDS.includes(command)) fail(`unknown command '${command}'\n\n${USAGE}`)
  if (command === "generate-key") {
    process.stdout.write(`${generateEncryptionKey()}\n`)
    return
  }
  if (command === "check-keys" || command === "rotate-keys") return keys(command)
  const config = parseConfig(Config)
  const sql = createDb(config.HELMR_DATABASE_URL, { max: 2, applicationName: "helmr-migrate" })
  try {
    const result = await migrate(sql, { log: (line) => process.stdout.write(`${line}\n`) })
    if (command === "migrate") {
      process.stdout.write(
        `migrations: ${result.applied.length} applied, ${result.skipped.length} already applied\n`,
      )
      return
    }
    if (command === "operator") {
      await addOperator(sql, rest)
      return
    }
    const slug = option(rest, "--project") ?? "default"
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(slug))
      fail("--project must be lowercase letters, digits and '-'")
    const boot = await bootstrapProject(sql, { slug, name: option(rest, "--name") ?? slug })
    const operatorEmail = option(rest, "--operator")
    if (rest.includes("--json")) {
      const operator = operatorEmail ? await grant(sql, operatorEmail, slug) : undefined
      process.stdout.write(`${JSON.stringify({ ...boot, operator }, null, 2)}\n`)
      return
    }
    process.stdout.write(
      `project ${boot.projectSlug} (${boot.projectId}) ${boot.created ? "created" : "already exists"}\n`,
    )
    for (const env of boot.environments) {
      const key = env.apiKey ?? `${env.keyPrefix}… (issued earlier; not shown again)`
      process.stdout.write(`  ${env.slug.padEnd(8)} ${env.id}  ${key}\n`)
    }
    if (boot.environments.some((e) => e.apiKey)) {
      process.stdout.write("Store these keys now: Helmr keeps only their hashes.\n")
    }
    if (operatorEmail) printGrant(await grant(sql, operatorEmail, slug))
  } finally {
    await sql.end({ timeout: 5 })
  }
}

/** `operator EMAIL --project SLUG [--env a,b]`: creates the operator or resets its password. */
async function addOperator(sql: ReturnType<typeof createDb>, args: string[]): Promise<void> {
  const email = args[0]
  if (!email || email.startsWith("--"))
    fail("operator needs an email: operator EMAIL --project SLUG")
  const project = option(args, "--project") ?? fail("operator needs --project SLUG")
  const envs = option(args, "--env")
    ?.split(",")
    .map((e) => e.trim())
    .filter(Boolean)
  printGrant(await grant(sql, email, project, envs))
}

async function grant(
  sql: ReturnType<typeof createDb>,
  email: string,
  projectSlug: string,
  environments?: string[],
) {
  // A given password is set (a reset for an existing operator); otherwise an existing operator
  // keeps theirs and a new one gets a generated password, printed once.
  const given = process.env.HELMR_OPERATOR_PASSWORD || null
  const generated = generatePassword()
  const result = await grantOperator(sql, {
    email,
    password: given,
    newPassword: generated,
    projectSlug,
    environments,
  })
  return { ...result, password: !given && result.created ? generated : null }
}

function printGrant(grant: OperatorGrant & { password: string | null }): void {
  const envs = grant.environments.map((e) => e.slug).join(", ")
  process.stdout.write(
    `operator ${grant.email} ${grant.created ? "created" : "updated"}; member of ${envs}\n`,
  )
  if (grant.password) {
    process.stdout.write(`  password: ${grant.password}  (shown once; sign in at the API's /)\n`)
  }
}

async function keys(command: "check-keys" | "rotate-keys"): Promise<void> {
  const config = parseConfig(KeysConfig)
  const keyring = keyringFromConfig(config)
  const sql = createDb(config.HELMR_DATABASE_URL, { max: 2, applicationName: "helmr-migrate" })
  try {
    await migrate(sql)
    if (command === "check-keys") {
      await checkKeyring(sql, keyring)
      process.stdout.write(
        `keys: ${[...keyring.keys.keys()].sort().join(", ")} match the database\n`,
      )
      return
    }
    const result = await rotateKeys(sql, keyring)
    const moved = Object.entries(result.resealed)
    const total = moved.reduce((sum, [, count]) => sum + count, 0)
    const detail = moved.map(([version, count]) => `${count} from version ${version}`).join(", ")
    process.stdout.write(
      `rotate-keys: ${total} secret(s) re-sealed with key version ${result.current}${total ? ` (${detail})` : ""}; ` +
        "no secret needs a retired key now\n",
    )
  } finally {
    await sql.end({ timeout: 5 })
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof MigrationError) fail(error.message)
  if (error instanceof OperatorInputError) fail(`${error.field}: ${error.message}`)
  throw error
})
