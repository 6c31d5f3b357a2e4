import { join } from "node:path"
import type { Subprocess } from "bun"
import type { RunnerHarness } from "./harness.ts"

/** The API as a process, on the harness's database and key prefix, for end-to-end tests. */

const ROOT = join(import.meta.dir, "../../..")

export function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() })
  const port = probe.port ?? 0
  probe.stop(true)
  return port
}

export async function startApiProcess(
  h: RunnerHarness,
): Promise<{ url: string; proc: Subprocess }> {
  const port = freePort()
  const proc = Bun.spawn(["bun", join(ROOT, "api/main.ts")], {
    env: {
      PATH: process.env.PATH ?? "",
      HELMR_DATABASE_URL: h.db.url,
      HELMR_VALKEY_URL: h.config.HELMR_VALKEY_URL,
      HELMR_KEY_PREFIX: h.config.HELMR_KEY_PREFIX,
      HELMR_ENCRYPTION_KEY: h.config.HELMR_ENCRYPTION_KEY,
      HELMR_API_PORT: String(port),
      HELMR_API_HOST: "127.0.0.1",
      HELMR_MIGRATE_ON_START: "false",
      HELMR_LOG_LEVEL: process.env.HELMR_TEST_LOG ?? "warn",
    },
    stdout: "inherit",
    stderr: "inherit",
  })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) return { url, proc }
    await Bun.sleep(100)
  }
  proc.kill()
  throw new Error("the API did not come up")
}

/**
 * A runner process (runner/main.ts) on the harness's database, key prefix and settings, under its
 * own runner id. The caller kills it (SIGTERM drains, SIGKILL simulates a crash).
 */
export function startRunnerProcess(
  h: RunnerHarness,
  runnerId: string,
  env: Record<string, string> = {},
): Subprocess {
  const all: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HELMR_RUNNER_PORT: "0",
    HELMR_MIGRATE_ON_START: "false",
    HELMR_LOG_LEVEL: process.env.HELMR_TEST_LOG ?? "warn",
    HELMR_RUNNER_ID: runnerId,
    ...env,
  }
  for (const [key, value] of Object.entries(h.config)) {
    if (!(key in all)) all[key] = String(value)
  }
  return Bun.spawn(["bun", join(ROOT, "runner/main.ts")], {
    env: all,
    stdout: "inherit",
    stderr: "inherit",
  })
}

/** Runs the `helmr` CLI; returns its stdout, throws with its stderr on failure. */
export async function runCli(args: string[], env: Record<string, string>): Promise<string> {
  const proc = Bun.spawn(["bun", join(ROOT, "sdk/src/cli/main.ts"), ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdout: "pipe",
    stderr: "pipe",
  })
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  if (code !== 0) throw new Error(`helmr ${args.join(" ")} exited ${code}: ${err}${out}`)
  return out
}

export { ROOT }

/** The dispatcher as a process on the harness's database and key prefix (timed waits resume). */
export async function startDispatcherProcess(
  h: RunnerHarness,
  env: Record<string, string> = {},
): Promise<Subprocess> {
  const port = freePort()
  const proc = Bun.spawn(["bun", join(ROOT, "dispatcher/main.ts")], {
    env: {
      PATH: process.env.PATH ?? "",
      HELMR_DATABASE_URL: h.db.url,
      HELMR_VALKEY_URL: h.config.HELMR_VALKEY_URL,
      HELMR_KEY_PREFIX: h.config.HELMR_KEY_PREFIX,
      HELMR_DISPATCHER_PORT: String(port),
      HELMR_DISPATCHER_ID: `${h.config.HELMR_RUNNER_ID}-dispatcher`,
      HELMR_DISPATCHER_DB_POOL: "3",
      HELMR_MIGRATE_ON_START: "false",
      HELMR_LOG_LEVEL: process.env.HELMR_TEST_LOG ?? "warn",
      ...env,
    },
    stdout: "inherit",
    stderr: "inherit",
  })
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) return proc
    await Bun.sleep(100)
  }
  proc.kill()
  throw new Error("the dispatcher did not come up")
}
