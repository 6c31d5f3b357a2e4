import type { Subprocess } from "bun"

/** A free loopback port (bound and released). */
export function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() })
  const port = probe.port ?? 0
  probe.stop(true)
  return port
}

/** Starts a server process and polls `readyUrl` until it answers 200 (60 s at most). */
export async function spawnServer(
  argv: string[],
  env: Record<string, string>,
  readyUrl: string,
): Promise<Subprocess<"ignore", "ignore", "inherit">> {
  const proc = Bun.spawn(argv, {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "inherit",
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", ...env },
  })
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${argv.join(" ")} exited with ${proc.exitCode}`)
    const ok = await fetch(readyUrl)
      .then((r) => r.ok)
      .catch(() => false)
    if (ok) return proc
    await Bun.sleep(100)
  }
  proc.kill()
  throw new Error(`${argv.join(" ")} did not answer ${readyUrl} in time`)
}
