import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { networkInterfaces } from "node:os"
import { join } from "node:path"
import type Docker from "dockerode"
import { publishCancel } from "../src/testing/cancel.ts"
import { bundleProject, runEvents, waitForRun } from "../src/testing/deployments.ts"
import { BASE_IMAGE } from "../src/testing/fixtures.ts"
import { type RunnerHarness, startRunnerHarness } from "../src/testing/harness.ts"

// Sandboxes in the real Docker Engine: hardening, limits, network isolation, cancel, maxDuration.

const MiB = 1024 ** 2
let h: RunnerHarness
let docker: Docker
let deploymentId: string
const inspected = new Map<string, Docker.ContainerInspectInfo>()
let watching = true
let watcher: Promise<void>

const sandbox = (name: string, memory: number, network = "bridge") => ({
  name,
  image: "img",
  workspace: "/workspace",
  resources: { cpu: 1, memory: `${memory}Mi`, memoryBytes: memory * MiB },
  network,
})
const task = (id: string, sb: string, extra: Record<string, unknown> = {}) => ({
  id,
  kind: "task",
  exportName: id.replace(/-(\w)/g, (_, c: string) => c.toUpperCase()),
  sandbox: sb,
  payloadSchema: null,
  ...extra,
})

/** Inspects every sandbox container of this file while it exists. */
async function watchContainers(): Promise<void> {
  while (watching) {
    const list = await docker.listContainers({
      all: true,
      filters: { label: [`helmr.test=${h.testLabel}`] },
    })
    for (const c of list) {
      if (inspected.has(c.Id)) continue
      const info = await docker
        .getContainer(c.Id)
        .inspect()
        .catch(() => null)
      if (info) inspected.set(c.Id, info)
    }
    await Bun.sleep(100)
  }
}

beforeAll(async () => {
  h = await startRunnerHarness("i6sandbox", { HELMR_SANDBOX_PIDS_LIMIT: "64" })
  docker = h.runner.docker as Docker
  watcher = watchContainers()
  deploymentId = await h.deploy({
    bundle: await bundleProject(join(import.meta.dir, "../src/testing/fixtures/limits")),
    manifest: {
      version: 1,
      entry: "index.js",
      tasks: [
        task("probe", "sb"),
        task("hog", "small"),
        task("fork-bomb", "sb", { maxDuration: 60 }),
        task("net", "sb"),
        task("net-offline", "offline", { exportName: "net" }),
        task("sleeper", "sb"),
        task("stubborn", "sb", { maxDuration: 2 }),
      ],
      sandboxes: [sandbox("sb", 256), sandbox("small", 128), sandbox("offline", 256, "none")],
      images: [{ name: "img", from: BASE_IMAGE, steps: [] }],
    },
  })
}, 120_000)

afterAll(async () => {
  watching = false
  await watcher
  await h?.stop()
  if (docker) {
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`helmr.test=${h.testLabel}`] },
    })
    expect(left).toEqual([])
  }
}, 60_000)

describe("docker sandbox", () => {
  test("runs as 1000:1000 with no capabilities, seccomp and no-new-privileges; only the workspace and /tmp are writable", async () => {
    const run = await h.trigger({ deploymentId, taskId: "probe" })
    const done = await waitForRun(h.db.sql, run.id, ["succeeded", "failed", "crashed"], 120_000)
    expect(done.error).toBeNull()
    const output = done.output as Record<string, string>
    // Not writable either way: a read-only file system or root-owned files.
    expect(["EROFS", "EACCES"]).toContain(output.etc ?? "")
    expect(["EROFS", "EACCES"]).toContain(output.helmr ?? "")
    expect({ ...output, etc: undefined, helmr: undefined } as Record<string, unknown>).toEqual({
      uid: 1000,
      gid: 1000,
      seccomp: "2",
      noNewPrivs: "1",
      capEff: "0000000000000000",
      workspace: "ok",
      tmp: "ok",
      root: "EROFS",
      home: "EROFS",
      etc: undefined,
      helmr: undefined,
      dockerSocket: false,
    })
  }, 120_000)

  test("a memory hog is OOM-killed and reported as such", async () => {
    const run = await h.trigger({ deploymentId, taskId: "hog" })
    const done = await waitForRun(h.db.sql, run.id, ["succeeded", "failed", "crashed"], 120_000)
    expect(done.status).toBe("failed")
    expect(done.error).toMatchObject({ name: "OutOfMemoryError" })
    expect((done.error as { message: string }).message).toContain("128Mi")
  }, 120_000)

  test("a fork bomb hits the pids limit and the task keeps control", async () => {
    const run = await h.trigger({ deploymentId, taskId: "fork-bomb" })
    const done = await waitForRun(h.db.sql, run.id, ["succeeded", "failed", "crashed"], 120_000)
    expect(done.error).toBeNull()
    const output = done.output as {
      max: string
      current: number
      shellExit: number
      shellError: string
    }
    expect(output.max).toBe("64")
    expect(output.current).toBeLessThanOrEqual(64)
    // The bomb filled the pids cgroup until fork failed, and the task still returned.
    expect(output.current).toBeGreaterThan(56)
    expect(output.shellExit).not.toBe(0)
    expect(output.shellError).toMatch(/fork|Resource temporarily unavailable/i)
  }, 120_000)

  test("cannot reach Postgres, Valkey or anything on the host; outbound works; network none has nothing", async () => {
    const listener = Bun.serve({ hostname: "0.0.0.0", port: 0, fetch: () => new Response("host") })
    try {
      const hostIps = Object.values(networkInterfaces())
        .flat()
        .filter((i) => i && i.family === "IPv4" && !i.internal)
        .map((i) => i?.address ?? "")
      const gateway = h.runner.network?.gateway ?? ""
      expect(gateway).not.toBe("")
      // The listener is reachable from the host itself: its refusal below is the firewall's doing.
      expect(await (await fetch(`http://${hostIps[0]}:${listener.port}/`)).text()).toBe("host")
      const blocked = [gateway, ...hostIps].flatMap((host) =>
        [5432, 6379, listener.port ?? 0].map((port) => ({ host, port })),
      )
      const targets = [
        ...blocked,
        { host: "127.0.0.1", port: 5432 },
        { host: "registry.npmjs.org", port: 443 },
      ]
      const run = await h.trigger({ deploymentId, taskId: "net", payload: { targets } })
      const done = await waitForRun(h.db.sql, run.id, ["succeeded", "failed", "crashed"], 120_000)
      const results = done.output as Record<string, string>
      for (const t of [...blocked, { host: "127.0.0.1", port: 5432 }]) {
        expect([`${t.host}:${t.port}`, results[`${t.host}:${t.port}`]]).not.toEqual([
          `${t.host}:${t.port}`,
          "connected",
        ])
      }
      expect(results["registry.npmjs.org:443"]).toBe("connected")

      const offline = await h.trigger({
        deploymentId,
        taskId: "net-offline",
        payload: {
          targets: [
            { host: "registry.npmjs.org", port: 443 },
            { host: "1.1.1.1", port: 443 },
          ],
        },
      })
      const none = await waitForRun(
        h.db.sql,
        offline.id,
        ["succeeded", "failed", "crashed"],
        120_000,
      )
      const noneResults = none.output as Record<string, string>
      expect(Object.values(noneResults).filter((r) => r === "connected")).toEqual([])
    } finally {
      await listener.stop(true)
    }
  }, 120_000)

  test("cancel aborts ctx.signal and ends the run as canceled", async () => {
    const run = await h.trigger({ deploymentId, taskId: "sleeper" })
    await waitForRun(h.db.sql, run.id, ["running"], 120_000)
    await waitForLog(run.id, "sleeping")
    // Only the event, no message: the heartbeat finds it.
    await publishCancel(h.db.sql, h.vk.valkey, h.runner.deps.keys, run.id, { publish: false })
    const done = await waitForRun(
      h.db.sql,
      run.id,
      ["canceled", "failed", "succeeded", "crashed"],
      60_000,
    )
    expect(done.status).toBe("canceled")
  }, 120_000)

  test("maxDuration aborts, then kills a task that ignores ctx.signal", async () => {
    const run = await h.trigger({ deploymentId, taskId: "stubborn" })
    const done = await waitForRun(
      h.db.sql,
      run.id,
      ["timed_out", "failed", "succeeded", "crashed"],
      120_000,
    )
    expect(done.status).toBe("timed_out")
    expect(done.error).toEqual({ name: "TimeoutError", message: "maxDuration of 2s reached" })
  }, 120_000)

  test("docker inspect of every sandbox matches the hardening policy", async () => {
    const sandboxes = [...inspected.values()].filter(
      (i) => i.Config.Labels["helmr.kind"] === "sandbox",
    )
    expect(sandboxes.length).toBeGreaterThanOrEqual(7)
    for (const info of sandboxes) {
      const hc = info.HostConfig
      expect(info.Config.User).toBe("1000:1000")
      expect(hc.CapDrop).toEqual(["ALL"])
      expect(hc.CapAdd ?? null).toBeNull()
      expect(hc.SecurityOpt).toEqual(["no-new-privileges:true"])
      expect(hc.Privileged).toBe(false)
      expect(hc.ReadonlyRootfs).toBe(true)
      expect(hc.Memory).toBeGreaterThan(0)
      expect(hc.MemorySwap).toBe(hc.Memory)
      expect(hc.NanoCpus).toBe(1e9)
      expect(hc.PidsLimit).toBe(64)
      expect(Object.keys(hc.Tmpfs ?? {})).toEqual(["/tmp"])
      expect(hc.Binds ?? []).toEqual([])
      expect(info.Mounts.map((m) => [m.Type, m.Destination])).toEqual([["volume", "/workspace"]])
      expect(JSON.stringify(info)).not.toContain("docker.sock")
      expect(hc.NetworkMode === h.runner.network?.name || hc.NetworkMode === "none").toBe(true)
      expect(info.Config.Labels["helmr.owner"]).toBe(h.config.HELMR_RUNNER_ID)
    }
  })
})

async function waitForLog(runId: string, message: string): Promise<void> {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if ((await runEvents(h.db.sql, runId)).some((e) => e.message === message)) return
    await Bun.sleep(50)
  }
  throw new Error(`log ${message} never came`)
}
