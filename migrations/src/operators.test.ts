import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { join } from "node:path"
import { bootstrapProject } from "./bootstrap.ts"
import {
  grantOperator,
  hashPassword,
  normalizeEmail,
  OperatorInputError,
  verifyPassword,
} from "./operators.ts"
import { createTestDatabase, type TestDatabase } from "./testing.ts"

let db: TestDatabase

beforeAll(async () => {
  db = await createTestDatabase("h13ops")
  await bootstrapProject(db.sql, { slug: "acme" })
}, 60_000)
afterAll(() => db?.drop())

describe("passwords", () => {
  test("argon2id PHC strings that verify only the right password", async () => {
    const hash = await hashPassword("correct horse battery")
    expect(hash).toStartWith("$argon2id$v=19$m=19456,t=2,p=1$")
    expect(await verifyPassword("correct horse battery", hash)).toBe(true)
    expect(await verifyPassword("correct horse batterY", hash)).toBe(false)
    expect(await verifyPassword("", hash)).toBe(false)
    expect(await verifyPassword("x", "not a hash")).toBe(false)
    // Same password, new salt.
    expect(await hashPassword("correct horse battery")).not.toBe(hash)
  })

  test.each([
    ["short", "password must be at least 10 characters"],
    ["x".repeat(257), "password must be at most 256 characters"],
  ])("refuses %#", async (password, message) => {
    await expect(hashPassword(password)).rejects.toThrow(message)
  })

  test("emails are trimmed and lower-cased; a bad one names the field", () => {
    expect(normalizeEmail("  Ops@Example.COM ")).toBe("ops@example.com")
    expect(() => normalizeEmail("no-at-sign")).toThrow(OperatorInputError)
  })
})

describe("grantOperator", () => {
  test("creates an operator who is a member of the chosen environments", async () => {
    const grant = await grantOperator(db.sql, {
      email: "Ada@Example.com",
      password: "first password 1",
      projectSlug: "acme",
      environments: ["dev", "staging"],
    })
    expect(grant).toMatchObject({ email: "ada@example.com", created: true, passwordSet: true })
    expect(grant.environments.map((e) => e.slug).sort()).toEqual(["dev", "staging"])
    const [row] = await db.sql<{ passwordHash: string }[]>`
      select password_hash from operators where email = 'ada@example.com'`
    expect(await verifyPassword("first password 1", row!.passwordHash)).toBe(true)
  })

  test("again: adds memberships; null keeps the password, a new one resets it and its sessions", async () => {
    const [op] = await db.sql<
      { id: string }[]
    >`select id from operators where email = 'ada@example.com'`
    await db.sql`insert into operator_sessions (id, operator_id, token_hash, csrf_token, expires_at)
      values ('opsess_x', ${op!.id}, '\\x00', 't', now() + interval '1 day')`
    const kept = await grantOperator(db.sql, {
      email: "ada@example.com",
      password: null,
      newPassword: "never used here",
      projectSlug: "acme",
    })
    expect(kept).toMatchObject({ created: false, passwordSet: false })
    expect(kept.environments.map((e) => e.slug)).toEqual(["dev", "staging", "prod"])
    expect(await db.sql`select id from operator_sessions`).toHaveLength(1)
    const reset = await grantOperator(db.sql, {
      email: "ada@example.com",
      password: "second password 2",
      projectSlug: "acme",
    })
    expect(reset.passwordSet).toBe(true)
    expect(await db.sql`select id from operator_sessions`).toHaveLength(0)
  })

  test.each([
    [{ projectSlug: "nope" }, "project"],
    [{ environments: ["dev", "qa"] }, "environments"],
    [{ email: "bad" }, "email"],
    [{ password: null }, "password"],
  ])("refuses %p naming %s, writing nothing", async (override, field) => {
    const error = await grantOperator(db.sql, {
      email: "new@example.com",
      password: "a good password",
      projectSlug: "acme",
      ...override,
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OperatorInputError)
    expect((error as OperatorInputError).field).toBe(field as never)
    expect(await db.sql`select id from operators where email = 'new@example.com'`).toHaveLength(0)
  })
})

describe("helmr-migrate operator", () => {
  const cli = (args: string[], env: Record<string, string> = {}) =>
    Bun.spawnSync(["bun", join(import.meta.dir, "cli.ts"), ...args], {
      env: { PATH: process.env.PATH ?? "", HELMR_DATABASE_URL: db.url, ...env },
    })

  test("creates an operator with a generated password, printed once", async () => {
    const out = cli(["operator", "cli@example.com", "--project", "acme", "--env", "prod"])
    const text = out.stdout.toString()
    expect(out.exitCode).toBe(0)
    expect(text).toContain("operator cli@example.com created; member of prod")
    const password = /password: (\S+)/.exec(text)?.[1] ?? ""
    const [row] = await db.sql<{ passwordHash: string }[]>`
      select password_hash from operators where email = 'cli@example.com'`
    expect(await verifyPassword(password, row!.passwordHash)).toBe(true)
    const again = cli(["operator", "cli@example.com", "--project", "acme"])
    expect(again.stdout.toString()).not.toContain("password:")
  })

  test("bootstrap --operator, with the password from HELMR_OPERATOR_PASSWORD", () => {
    const out = cli(["bootstrap", "--project", "beta", "--operator", "boot@example.com"], {
      HELMR_OPERATOR_PASSWORD: "a chosen password",
    })
    expect(out.exitCode).toBe(0)
    const text = out.stdout.toString()
    expect(text).toContain("operator boot@example.com created; member of dev, staging, prod")
    expect(text).not.toContain("password:")
  })

  test("a bad input is a clear error and exit 2", () => {
    const out = cli(["operator", "x@example.com", "--project", "missing"])
    expect(out.exitCode).toBe(2)
    expect(out.stderr.toString()).toContain("project: no project 'missing'")
  })
})
