import { mkdirSync, openSync, rmSync } from "node:fs"
import type { Subprocess } from "bun"
import Docker from "dockerode"

/**
 * A second Docker engine on this machine for tests: its own socket, data root and exec root (and
 * so its own containerd), its own default bridge (builds run their steps on it) and no iptables of
 * its own (two engines rewriting the same chains would break the machine's). Stands for another
 * runner host; being private, a test may restart or kill it without touching anyone else's.
 * Never start it with `--bridge=none`: dockerd then deletes `docker0`, the machine engine's
 * default bridge (every build step of that engine fails until it is recreated).
 */
export interface PrivateDockerd {
  socket: string
  docker: Docker
  /** Stops the engine (SIGTERM, then SIGKILL) and, with `wipe`, removes its data root. */
  stop(options?: { wipe?: boolean }): Promise<void>
  /** Starts it again on the same data root (after `stop()`). */
  start(): Promise<void>
}

async function sh(cmd: string): Promise<void> {
  const proc = Bun.spawn(["sh", "-c", cmd], { stdout: "ignore", stderr: "pipe" })
  const stderr = await new Response(proc.stderr).text()
  if ((await proc.exited) !== 0) throw new Error(`${cmd}: ${stderr.trim()}`)
}

/** SIGKILLs every containerd shim started for `socket` and all their descendants, by pid. */
async function killShims(socket: string): Promise<void> {
  const ps = Bun.spawn(["ps", "-eo", "pid=,ppid=,args="], { stdout: "pipe" })
  const rows = (await new Response(ps.stdout).text())
    .split("\n")
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .flatMap((m) => (m ? [{ pid: Number(m[1]), ppid: Number(m[2]), args: m[3] ?? "" }] : []))
  const doomed = new Set(
    rows
      .filter((r) => r.args.includes("containerd-shim") && r.args.includes(`-address ${socket}`))
      .map((r) => r.pid),
  )
  for (let grew = true; grew; ) {
    grew = false
    for (const r of rows) {
      if (doomed.has(r.ppid) && !doomed.has(r.pid)) {
        doomed.add(r.pid)
        grew = true
      }
    }
  }
  for (const pid of doomed) {
    try {
      process.kill(pid, "SIGKILL")
    } catch {
      // Already gone.
    }
  }
  if (doomed.size > 0) await Bun.sleep(500)
}

export async function startPrivateDockerd(
  tag: string,
  images: readonly string[],
): Promise<PrivateDockerd> {
  // Unix socket paths are short: keep the exec root under /run.
  const run = `/run/hd-${tag}`
  const data = `/var/lib/helmr-test-dockerd-${tag}`
  const socket = `${run}/docker.sock`
  mkdirSync(run, { recursive: true })
  mkdirSync(data, { recursive: true })
  const bridge = `hdb-${tag}`.slice(0, 15)
  const subnet = 200 + (Number.parseInt(tag.replace(/\D/g, "").slice(-3) || "0", 10) % 50)
  await sh(
    `ip link show ${bridge} >/dev/null 2>&1 || { ip link add ${bridge} type bridge && ` +
      `ip addr add 10.213.${subnet}.1/24 dev ${bridge} && ip link set ${bridge} up; }`,
  )
  const docker = new Docker({ socketPath: socket })
  let proc: Subprocess | null = null

  async function start(): Promise<void> {
    const log = openSync(`${run}/dockerd.log`, "a")
    proc = Bun.spawn(
      [
        "dockerd",
        `--host=unix://${socket}`,
        `--data-root=${data}`,
        `--exec-root=${run}/exec`,
        `--pidfile=${run}/docker.pid`,
        `--bridge=${bridge}`,
        "--iptables=false",
        "--ip-masq=false",
        "--log-level=warn",
      ],
      { stdout: log, stderr: log },
    )
    const deadline = Date.now() + 60_000
    for (;;) {
      if (
        await docker.ping().then(
          () => true,
          () => false,
        )
      )
        return
      if (proc.exitCode !== null || Date.now() > deadline) {
        throw new Error(`private dockerd ${tag} did not start (log: ${run}/dockerd.log)`)
      }
      await Bun.sleep(200)
    }
  }

  async function stop(options: { wipe?: boolean } = {}): Promise<void> {
    const running = proc
    proc = null
    if (running && running.exitCode === null) {
      running.kill("SIGTERM")
      const timer = setTimeout(() => running.kill("SIGKILL"), 20_000)
      await running.exited
      clearTimeout(timer)
    }
    if (options.wipe) {
      // Containers' shims outlive their engine (a container started as the engine went down,
      // or the engine stopped under running sandboxes): end them and their processes, found by
      // this engine's own containerd socket in their command line, or their mounts keep the
      // exec root busy.
      await killShims(`${run}/exec/containerd/containerd.sock`)
      // Containers' mounts may outlive the engine by a moment.
      await sh(`umount -R ${data} 2>/dev/null; umount -R ${run}/exec 2>/dev/null; true`)
      rmSync(data, { recursive: true, force: true })
      rmSync(run, { recursive: true, force: true })
      await sh(`ip link del ${bridge} 2>/dev/null; true`)
    }
  }

  await start()
  for (const image of images) await sh(`docker save ${image} | docker -H unix://${socket} load`)
  return { socket, docker, stop, start }
}
