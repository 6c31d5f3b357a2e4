import { describe, expect, test } from "bun:test"
import { join } from "node:path"
import { checkKeyring } from "@helmr/migrations/keyring"
import { createKeyring } from "@helmr/migrations/secrets"
import { createTestDatabase, TEST_VALKEY_URL, testEncryptionKey } from "@helmr/migrations/testing"

const root = join(import.meta.dir, "..")

async function run(cmd: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn(cmd, {
    cwd: root,
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "pipe",
  })
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  return { stdout, stderr, code }
}

describe("scripts/services.sh", () => {
  test("is idempotent: with everything up, a run only reports what it reuses", async () => {
    const first = await run(["bash", "scripts/services.sh"])
    expect(first.code).toBe(0)
    const second = await run(["bash", "scripts/services.sh"])
    expect(second.code).toBe(0)
    const lines = second.stdout.trim().split("\n")
    expect(lines).toEqual([
      "services: postgres: reusing the server on 127.0.0.1:5432",
      "services: valkey: reusing the server on 127.0.0.1:6379",
      "services: docker: reusing the running engine",
    ])
  })
})

describe("scripts/base-image.sh", () => {
  test("is cached by tag: a second run builds nothing, and the image runs bun as a non-root user", async () => {
    const again = await run(["bash", "scripts/base-image.sh"])
    expect(again.code).toBe(0)
    expect(again.stdout).toContain("is up to date")
    const probe = await run([
      "docker",
      "run",
      "--rm",
      "--user",
      "1000:1000",
      "--network",
      "none",
      `helmr-local/bun:${Bun.version}`,
      "bun",
      "-e",
      "console.log(Bun.version, process.getuid())",
    ])
    expect(probe.code).toBe(0)
    expect(probe.stdout.trim()).toBe(`${Bun.version} 1000`)
  }, 60_000)
})

describe("service configuration", () => {
  for (const service of ["api", "dispatcher", "runner"]) {
    test(`${service} refuses to start without config, naming each variable`, async () => {
      const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root" }
      const proc = Bun.spawn(["bun", `${service}/main.ts`], {
        cwd: root,
        env,
        stdout: "pipe",
        stderr: "pipe",
      })
      const stderr = await new Response(proc.stderr).text()
      expect(await proc.exited).toBe(2)
      expect(stderr).toContain(`helmr-${service}: invalid configuration`)
      expect(stderr).toContain("HELMR_DATABASE_URL: is not set")
      expect(stderr).toContain("HELMR_VALKEY_URL: is not set")
    })

    test(`${service} names a bad value without echoing it`, async () => {
      const proc = Bun.spawn(["bun", `${service}/main.ts`], {
        cwd: root,
        env: {
          PATH: process.env.PATH ?? "",
          HELMR_DATABASE_URL: "mysql://secret-password@db/x",
          HELMR_VALKEY_URL: "redis://127.0.0.1:6379",
          HELMR_ENCRYPTION_KEY: "too-short",
          HELMR_LOG_LEVEL: "loud",
        },
        stdout: "pipe",
        stderr: "pipe",
      })
      const stderr = await new Response(proc.stderr).text()
      expect(await proc.exited).toBe(2)
      expect(stderr).toContain("HELMR_DATABASE_URL: must be a postgres:// URL")
      expect(stderr).toContain("HELMR_LOG_LEVEL")
      expect(stderr).not.toContain("secret-password")
      if (service !== "dispatcher")
        expect(stderr).toContain("HELMR_ENCRYPTION_KEY: must be 32 bytes")
    })
  }
})

describe("a key that does not match the database", () => {
  test("api and runner refuse to start, naming the cause and the fix", async () => {
    const db = await createTestDatabase("wrongkey")
    try {
      const right = testEncryptionKey()
      await checkKeyring(db.sql, createKeyring(right))
      for (const service of ["api", "runner"]) {
        const proc = Bun.spawn(["bun", `${service}/main.ts`], {
          cwd: root,
          env: {
            PATH: process.env.PATH ?? "",
            HELMR_DATABASE_URL: db.url,
            HELMR_VALKEY_URL: TEST_VALKEY_URL,
            HELMR_ENCRYPTION_KEY: testEncryptionKey(),
            HELMR_SANDBOX_DRIVER: "local",
            HELMR_RUNNER_ID: "wrongkey-test",
            HELMR_API_PORT: "0",
            HELMR_RUNNER_PORT: "0",
          },
          stdout: "pipe",
          stderr: "pipe",
        })
        const stderr = await new Response(proc.stderr).text()
        expect({ service, code: await proc.exited }).toEqual({ service, code: 2 })
        expect(stderr).toContain(`helmr-${service}: the configured encryption key version 1`)
        expect(stderr).toContain("is not the key this database was used with")
        expect(stderr).toContain("helmr-migrate rotate-keys")
      }
    } finally {
      await db.drop()
    }
  }, 60_000)
})

describe("compose.yaml", () => {
  test("has the six services, health checks, named volumes, and only the runner gets the Docker socket", async () => {
    const compose = Bun.YAML.parse(await Bun.file(join(root, "compose.yaml")).text()) as {
      services: Record<
        string,
        { volumes?: string[]; healthcheck?: unknown; depends_on?: Record<string, unknown> }
      >
      volumes: Record<string, unknown>
    }
    expect(Object.keys(compose.services).sort()).toEqual(
      ["api", "dispatcher", "migrate", "postgres", "runner", "valkey"].sort(),
    )
    for (const [name, svc] of Object.entries(compose.services)) {
      const mountsSocket = (svc.volumes ?? []).some((v) => v.includes("docker.sock"))
      expect({ name, mountsSocket }).toEqual({ name, mountsSocket: name === "runner" })
      if (name !== "migrate")
        expect({ name, health: svc.healthcheck !== undefined }).toEqual({ name, health: true })
    }
    for (const name of ["api", "dispatcher", "runner"]) {
      expect(compose.services[name]!.depends_on).toHaveProperty("migrate")
    }
    expect(Object.keys(compose.volumes)).toEqual(
      expect.arrayContaining(["postgres-data", "valkey-data", "runner-workspaces"]),
    )
  })
})
