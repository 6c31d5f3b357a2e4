import { randomBytes } from "node:crypto"
import { argon2id, argon2Verify } from "hash-wasm"
import { DEFAULT_ENVIRONMENTS } from "./bootstrap.ts"
import type { Sql } from "./db.ts"
import { newId } from "./ids.ts"

/**
 * Dashboard operators: the people who sign in to the web UI. One owner for the password rules and
 * hashing, shared by the API (sign-in) and the admin CLI (creating operators).
 *
 * Passwords are hashed with argon2id from hash-wasm: a vetted WebAssembly build of the reference
 * implementation that runs the same on Bun and on Deno (the API boots on both; `Bun.password` does
 * not exist on Deno). Parameters follow OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane).
 */

export const PASSWORD_MIN_LENGTH = 10
export const PASSWORD_MAX_LENGTH = 256
const EMAIL = /^[^@\s]{1,64}@[^@\s]{1,190}$/

export class OperatorInputError extends Error {
  override name = "OperatorInputError"
  constructor(
    readonly field: "email" | "password" | "project" | "environments",
    message: string,
  ) {
    super(message)
  }
}

/** The email as stored (trimmed, lower case), or an OperatorInputError naming the field. */
export function normalizeEmail(email: string): string {
  const normalized = email.trim().toLowerCase()
  if (!EMAIL.test(normalized))
    throw new OperatorInputError("email", "email must look like name@host")
  return normalized
}

export function checkPassword(password: string): void {
  if (password.length < PASSWORD_MIN_LENGTH) {
    throw new OperatorInputError(
      "password",
      `password must be at least ${PASSWORD_MIN_LENGTH} characters`,
    )
  }
  if (password.length > PASSWORD_MAX_LENGTH) {
    throw new OperatorInputError(
      "password",
      `password must be at most ${PASSWORD_MAX_LENGTH} characters`,
    )
  }
}

/** An argon2id PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`). */
export async function hashPassword(password: string): Promise<string> {
  checkPassword(password)
  return argon2id({
    password,
    salt: randomBytes(16),
    parallelism: 1,
    iterations: 2,
    memorySize: 19_456,
    hashLength: 32,
    outputType: "encoded",
  })
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  if (password.length === 0 || password.length > PASSWORD_MAX_LENGTH) return false
  try {
    return await argon2Verify({ password, hash })
  } catch {
    return false
  }
}

/**
 * A hash of a random password nobody knows: sign-in verifies against it when the email is
 * unknown, so a probe cannot tell unknown emails from wrong passwords by the time taken.
 */
let decoyHash: Promise<string> | undefined
export function decoyPasswordHash(): Promise<string> {
  decoyHash ??= hashPassword(randomBytes(24).toString("base64url"))
  return decoyHash
}

/** A password for a new operator when none is given: 20 base64url characters (120 bits). */
export function generatePassword(): string {
  return randomBytes(15).toString("base64url")
}

export interface OperatorGrant {
  operatorId: string
  email: string
  created: boolean
  /** True when the password given (or `newPassword` for a new operator) was stored. */
  passwordSet: boolean
  environments: { id: string; slug: string }[]
}

/**
 * Creates the operator (or sets the password of an existing one when `password` is given) and
 * makes it a member of the project's environments (`environments`, default all of them).
 */
export async function grantOperator(
  sql: Sql,
  input: {
    email: string
    /** Sets (or resets) the password; null keeps an existing operator's password. */
    password: string | null
    /** The password of a new operator when `password` is null. */
    newPassword?: string
    projectSlug: string
    environments?: readonly string[]
  },
): Promise<OperatorGrant> {
  const email = normalizeEmail(input.email)
  const hash = input.password === null ? null : await hashPassword(input.password)
  const newHash = input.newPassword === undefined ? null : await hashPassword(input.newPassword)
  return sql.begin(async (tx) => {
    const envs = await tx<{ id: string; slug: string }[]>`
      select e.id, e.slug from environments e join projects p on p.id = e.project_id
      where p.slug = ${input.projectSlug}
      order by array_position(${[...DEFAULT_ENVIRONMENTS]}::text[], e.slug), e.slug`
    if (envs.length === 0) {
      throw new OperatorInputError(
        "project",
        `no project '${input.projectSlug}': bootstrap it first`,
      )
    }
    const wanted = input.environments ?? envs.map((e) => e.slug)
    const missing = wanted.filter((slug) => !envs.some((e) => e.slug === slug))
    if (missing.length > 0) {
      throw new OperatorInputError(
        "environments",
        `project '${input.projectSlug}' has no environment ${missing.map((m) => `'${m}'`).join(", ")}`,
      )
    }
    const [existing] = await tx<{ id: string }[]>`
      select id from operators where email = ${email} for update`
    let operatorId: string
    if (existing) {
      operatorId = existing.id
      if (hash) {
        await tx`update operators set password_hash = ${hash}, updated_at = now()
          where id = ${operatorId}`
        // A new password ends every session of the old one.
        await tx`delete from operator_sessions where operator_id = ${operatorId}`
      }
    } else {
      const initial = hash ?? newHash
      if (!initial) throw new OperatorInputError("password", "a new operator needs a password")
      operatorId = newId("op")
      await tx`insert into operators (id, email, password_hash)
        values (${operatorId}, ${email}, ${initial})`
    }
    const granted = envs.filter((e) => wanted.includes(e.slug))
    for (const env of granted) {
      await tx`insert into operator_memberships (operator_id, environment_id)
        values (${operatorId}, ${env.id}) on conflict do nothing`
    }
    return {
      operatorId,
      email,
      created: !existing,
      passwordSet: hash !== null || !existing,
      environments: granted,
    }
  })
}
