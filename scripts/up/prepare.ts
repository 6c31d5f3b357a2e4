import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"
import { generateApiKey, hashApiKey } from "@helmr/migrations/api-keys"
import { bootstrapProject } from "@helmr/migrations/bootstrap"
import { keyringFields, parseConfig } from "@helmr/migrations/config"
import { createDb } from "@helmr/migrations/db"
import { newId } from "@helmr/migrations/ids"
import { checkKeyring, KeyringError, keyringFromConfig } from "@helmr/migrations/keyring"
import { migrate } from "@helmr/migrations/migrate"
import { generatePassword, grantOperator } from "@helmr/migrations/operators"
import { sealSecret } from "@helmr/migrations/secrets"
import { z } from "zod"

/**
 * scripts/up.sh, step "prepare": the database (created if missing, migrated), the `examples`
 * project with its environments, a dev API key kept in `.helmr/keys.json` (a new one is issued if
 * that file was lost: Helmr stores only key hashes), and the secrets the examples declare (a
 * placeholder unless the variable is set in the environment), and a dashboard operator whose
 * password is kept in the same file. Idempotent.
 *
 * `--project <name>` (bash scripts/up.sh project <name>) prepares a user's own project instead:
 * its own environments and dev key, no example secrets. up.sh only ever deploys examples/ into
 * the `examples` project, so a user's deployments are never replaced by a rerun of up.sh.
 */

const EXAMPLES = "examples"
const url = process.env.HELMR_DATABASE_URL ?? ""
const keysFile = process.env.HELMR_UP_KEYS_FILE ?? ".helmr/keys.json"
const projectFlag = process.argv.indexOf("--project")
const userProject = projectFlag > 0 ? (process.argv[projectFlag + 1] ?? "") : undefined
if (userProject !== undefined) {
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(userProject)) {
    process.stderr.write(
      "up: a project name is lowercase letters, digits and '-' (e.g. my-tasks)\n",
    )
    process.exit(2)
  }
  if (userProject === EXAMPLES) {
    process.stderr.write(
      "up: 'examples' is the project up.sh deploys examples/ into; pick another name\n",
    )
    process.exit(2)
  }
}
const project = userProject ?? process.env.HELMR_UP_PROJECT ?? EXAMPLES
const say = (line: string) => process.stdout.write(`up: ${line}\n`)

async function ensureDatabase(): Promise<void> {
  const target = new URL(url)
  const name = target.pathname.slice(1)
  const admin = new URL(url)
  admin.pathname = "/postgres"
  const sql = createDb(admin.toString(), { max: 1, applicationName: "helmr-up" })
  try {
    const [exists] = await sql`select 1 from pg_database where datname = ${name}`
    if (!exists) {
      await sql.unsafe(`create database "${name.replace(/"/g, "")}"`)
      say(`database ${name} created`)
    }
  } finally {
    await sql.end()
  }
}

function readKeys(): Record<string, string> {
  try {
    return JSON.parse(readFileSync(keysFile, "utf8")) as Record<string, string>
  } catch {
    return {}
  }
}

await ensureDatabase()
const sql = createDb(url, { max: 2, applicationName: "helmr-up" })
try {
  const migrated = await migrate(sql)
  say(`migrations: ${migrated.applied.length} applied, ${migrated.skipped.length} already applied`)
  const boot = await bootstrapProject(sql, { slug: project })
  const dev = boot.environments.find((e) => e.slug === "dev")
  if (!dev) throw new Error("bootstrap made no dev environment")
  const keys = readKeys()
  let apiKey = dev.apiKey ?? keys[`${project}:dev`] ?? null
  if (apiKey) {
    const [valid] = await sql`
      select 1 from api_keys
      where environment_id = ${dev.id} and key_hash = ${hashApiKey(apiKey)} and revoked_at is null`
    if (!valid) apiKey = null
  }
  if (!apiKey) {
    const key = generateApiKey("dev")
    await sql`insert into api_keys (id, environment_id, key_prefix, key_hash)
      values (${newId("key")}, ${dev.id}, ${key.prefix}, ${key.hash})`
    apiKey = key.key
    say("issued a new dev API key (the stored one was missing)")
  }
  // The dashboard's first operator; a password lost with the file is reset to a new one.
  const operator = process.env.HELMR_UP_OPERATOR ?? "admin@helmr.local"
  const stored = keys[`dashboard:${operator}`]
  const password = stored ?? generatePassword()
  await grantOperator(sql, {
    email: operator,
    password: stored ? null : password,
    newPassword: password,
    projectSlug: project,
  })
  mkdirSync(dirname(keysFile), { recursive: true })
  writeFileSync(
    keysFile,
    JSON.stringify(
      { ...keys, [`${project}:dev`]: apiKey, [`dashboard:${operator}`]: password },
      null,
      2,
    ),
    { mode: 0o600 },
  )
  say(`dashboard operator ${operator}, password in ${keysFile}`)
  say(
    `project ${project} (${boot.projectId}) ${boot.created ? "created" : "ready"}, dev key in ${keysFile}`,
  )

  if (userProject !== undefined) {
    const apiUrl = `http://127.0.0.1:${process.env.HELMR_API_PORT ?? "3000"}`
    process.stdout.write(
      `\nYour project ${project}: its dev key is in ${keysFile} ("${project}:dev"). Use it with:\n  export HELMR_API_URL=${apiUrl}\n  export HELMR_API_KEY=${apiKey}\n`,
    )
  }
  const keyring = keyringFromConfig(parseConfig(z.object(keyringFields)))
  await checkKeyring(sql, keyring).catch((error: unknown) => {
    if (!(error instanceof KeyringError)) throw error
    process.stderr.write(`up: ${error.message}\n`)
    process.exit(2)
  })
  for (const name of userProject === undefined ? ["OPENAI_API_KEY", "API_TOKEN"] : []) {
    const [existing] = await sql`
      select 1 from secrets where environment_id = ${dev.id} and name = ${name}`
    if (existing) continue
    const value = process.env[name] ?? `placeholder-${name.toLowerCase()}`
    const sealed = sealSecret(keyring, dev.id, name, value)
    await sql`insert into secrets (environment_id, name, ciphertext, nonce, auth_tag, key_version)
      values (${dev.id}, ${name}, ${sealed.ciphertext}, ${sealed.nonce}, ${sealed.authTag}, ${sealed.keyVersion})`
    say(
      `secret ${name} set in dev (${process.env[name] ? "from your environment" : "a placeholder"})`,
    )
  }
} finally {
  await sql.end({ timeout: 5 })
}
