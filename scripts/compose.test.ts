import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { randomBytes } from "node:crypto"
import { cpSync, mkdirSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { join } from "node:path"

// compose.yaml brought up for real (Debian's docker-compose, images built from this repository,
// upstream images replaced by local stand-ins when they cannot be pulled): bootstrap, deploy
// examples/ with the CLI from the host, review-pr end to end, the sandbox firewall under compose,
// every service restarted in turn while triggers and an every-minute schedule flow, then down and
// up again. The audit: 0 lost runs, 0 duplicate runs, 0 unaccounted slots, data kept.

const ROOT = join(import.meta.dir, "..")
const project = `helmrci${randomBytes(3).toString("hex")}`
let port = 0
let apiKey = ""
let stagingKey = ""
let bootstrapOutput = ""
let setupProject = ""
let operator = ""
const env: Record<string, string> = {}

async function sh(cmd: string[], extra: Record<string, string> = {}, timeoutMs = 600_000) {
  const proc = Bun.spawn(cmd, {
    cwd: ROOT,
    env: { ...process.env, ...env, ...extra },
    stdout: "pipe",
    stderr: "pipe",
  })
  const timer = setTimeout(() => proc.kill(), timeoutMs)
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  clearTimeout(timer)
  if (code !== 0) throw new Error(`${cmd.join(" ")} exited ${code}\n${stdout}\n${stderr}`)
  return stdout
}

const compose = (...args: string[]) => sh(["docker-compose", "-p", project, ...args])
const psql = (query: string) =>
  compose("exec", "-T", "postgres", "psql", "-U", "helmr", "-d", "helmr", "-Atc", query)

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0))
    })
  })
}

async function api(path: string, init: RequestInit = {}, key = apiKey): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}/api/v1${path}`, {
    ...init,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    signal: AbortSignal.timeout(10_000),
  })
}

async function waitHealthy(timeoutMs = 240_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const ps = await compose("ps").catch(() => "")
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`, {
      signal: AbortSignal.timeout(2_000),
    })
      .then((r) => r.ok)
      .catch(() => false)
    const services = ["api", "dispatcher", "runner", "postgres", "valkey"]
    if (ok && services.every((s) => new RegExp(`_${s}_1 .*\\(healthy\\)`).test(ps))) return
    if (Date.now() > deadline) throw new Error(`stack not healthy in ${timeoutMs} ms:\n${ps}`)
    await Bun.sleep(1_000)
  }
}

/** Triggers until the API answers (through restarts); the idempotency key makes retries safe. */
async function trigger(key: string): Promise<string> {
  const deadline = Date.now() + 180_000
  for (;;) {
    const res = await api("/tasks/review-pr/trigger", {
      method: "POST",
      // A run cut by a hard kill is retried rather than left crashed.
      body: JSON.stringify({
        payload: { prNumber: 1 },
        options: { idempotencyKey: key, maxAttempts: 3 },
      }),
    }).catch(() => null)
    if (res && (res.status === 201 || res.status === 200))
      return ((await res.json()) as { id: string }).id
    if (res && res.status < 500 && res.status !== 429)
      throw new Error(`trigger ${key}: ${res.status} ${await res.text()}`)
    if (Date.now() > deadline) throw new Error(`trigger ${key}: API unavailable for 180 s`)
    await Bun.sleep(500)
  }
}

async function runStatus(id: string, key = apiKey): Promise<{ status: string; output: unknown }> {
  const res = await api(`/runs/${id}`, {}, key)
  return (await res.json()) as { status: string; output: unknown }
}

async function waitRun(id: string, key = apiKey, timeoutMs = 300_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const run = await runStatus(id, key).catch(() => null)
    if (run && !["queued", "starting", "running", "waiting"].includes(run.status)) return run
    if (Date.now() > deadline) throw new Error(`run ${id} not finished: ${JSON.stringify(run)}`)
    await Bun.sleep(1_000)
  }
}

beforeAll(async () => {
  port = await freePort()
  Object.assign(env, {
    HELMR_ENCRYPTION_KEY: randomBytes(32).toString("hex"),
    HELMR_API_PUBLISH: String(port),
    HELMR_RUNNER_ID: `${project}-runner`,
    HELMR_SANDBOX_NETWORK: `${project}-sandbox`,
  })
  await sh(["bash", "scripts/compose-images.sh"], {}, 900_000)
  await compose("build")
  await compose("up", "-d")
  await waitHealthy()
  // The operators' setup exactly as docs/self-hosting.md documents it (docker-compose for
  // `docker compose`, our project name for `helmr`, -T: no terminal here).
  const doc = await Bun.file(join(ROOT, "docs/self-hosting.md")).text()
  const documented = /^\$ docker compose -p helmr run --rm (migrate bun .* bootstrap .*)$/m.exec(
    doc,
  )?.[1]
  if (!documented) throw new Error("docs/self-hosting.md documents no bootstrap command")
  const args = documented.split(" ")
  setupProject = args[args.indexOf("--project") + 1] ?? ""
  operator = args[args.indexOf("--operator") + 1] ?? ""
  expect({ setupProject, operator }).toEqual({
    setupProject: expect.stringMatching(/^[a-z]/),
    operator: expect.stringContaining("@"),
  })
  bootstrapOutput = await compose("run", "--rm", "-T", ...args)
  const shown = bootstrapOutput
    .replace(/(hk_[a-z]+_\w{4})\S*/g, "$1…")
    .replace(/(password: \S{4})\S*/, "$1…")
  console.log(`compose: ${documented}\n${shown}`)
  const keyOf = (slug: string) =>
    new RegExp(`^  ${slug} +env_\\w+ +(hk_${slug}_\\S+)$`, "m").exec(bootstrapOutput)?.[1] ?? ""
  apiKey = keyOf("dev")
  stagingKey = keyOf("staging")
  expect({ dev: apiKey, staging: stagingKey, prod: keyOf("prod") }).toEqual({
    dev: expect.stringMatching(/^hk_dev_/),
    staging: expect.stringMatching(/^hk_staging_/),
    prod: expect.stringMatching(/^hk_prod_/),
  })
  for (const name of ["OPENAI_API_KEY", "API_TOKEN"]) {
    const res = await api(`/secrets/${name}`, {
      method: "PUT",
      body: JSON.stringify({ value: "ci" }),
    })
    expect([200, 201]).toContain(res.status)
  }
}, 1_500_000)

afterAll(async () => {
  const bridge = await sh([
    "docker",
    "network",
    "inspect",
    "-f",
    '{{index .Options "com.docker.network.bridge.name"}}',
    `${project}-sandbox`,
  ]).catch(() => "")
  await compose("down", "-v", "--remove-orphans").catch((e) => console.error(String(e)))
  await sh(["docker", "network", "rm", `${project}-sandbox`]).catch(() => {})
  // The firewall rules of the stack's sandbox bridge, applied on this host.
  for (const chain of ["INPUT", "DOCKER-USER"]) {
    const rules = await sh(["iptables", "-S", chain]).catch(() => "")
    for (const line of rules.split("\n")) {
      if (bridge.trim() && line.includes(`-i ${bridge.trim()} `)) {
        await sh(["iptables", ...line.replace(/^-A /, "-D ").split(" ")]).catch(() => {})
      }
    }
  }
}, 300_000)

describe("compose", () => {
  test("the setup command's operator signs in to the dashboard", async () => {
    const password = /^ {2}password: (\S+) /m.exec(bootstrapOutput)?.[1] ?? ""
    expect(bootstrapOutput).toContain(`operator ${operator} created; member of dev, staging, prod`)
    expect(password.length).toBeGreaterThanOrEqual(12)
    const base = `http://127.0.0.1:${port}`
    const cookies = new Map<string, string>()
    const request = async (path: string, init: RequestInit = {}) => {
      const headers = new Headers(init.headers)
      headers.set("cookie", [...cookies].map(([k, v]) => `${k}=${v}`).join("; "))
      const res = await fetch(`${base}${path}`, { ...init, headers, redirect: "manual" })
      for (const cookie of res.headers.getSetCookie()) {
        const [pair = ""] = cookie.split(";")
        const [name = "", value = ""] = pair.split("=")
        if (/Max-Age=0/i.test(cookie)) cookies.delete(name)
        else cookies.set(name, value)
      }
      return res
    }
    const form = await (await request("/sign-in")).text()
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form)?.[1] ?? ""
    const signedIn = await request("/sign-in", {
      method: "POST",
      body: new URLSearchParams({ _csrf: csrf, email: operator, password, next: "/" }),
    })
    expect(signedIn.status).toBe(303)
    expect(cookies.get("helmr_session")).toBeTruthy()
    // Signed in, the dashboard shows the project's environments instead of the sign-in form.
    const home = await request(`/p/${setupProject}/dev/runs`)
    expect(home.status).toBe(200)
    const page = await home.text()
    expect(page).not.toContain('action="/sign-in"')
    expect(page).toContain(operator)
  }, 60_000)

  test("deploy examples/ from the host and run review-pr end to end", async () => {
    const dir = join(ROOT, ".helmr", `compose-examples-${project}`)
    mkdirSync(dir, { recursive: true })
    cpSync(join(ROOT, "examples"), dir, { recursive: true })
    const out = await sh(
      ["bun", "sdk/src/cli/main.ts", "deploy", "--env", "dev", "--dir", dir, "--promote"],
      {
        HELMR_API_URL: `http://127.0.0.1:${port}`,
        HELMR_API_KEY: apiKey,
      },
    )
    rmSync(dir, { recursive: true, force: true })
    expect(out).toMatch(/^dep_/)
    const id = await trigger("first")
    const run = await waitRun(id)
    expect(run).toMatchObject({ status: "succeeded", output: { ok: true } })
  }, 600_000)

  test("a sandbox of the containerised runner reaches none of postgres, valkey, api, the host", async () => {
    const out = await sh(
      [
        "bun",
        "sdk/src/cli/main.ts",
        "deploy",
        "--env",
        "staging",
        "--dir",
        "scripts/compose/probe",
        "--promote",
      ],
      {
        HELMR_API_URL: `http://127.0.0.1:${port}`,
        HELMR_API_KEY: stagingKey,
      },
    )
    expect(out).toMatch(/^dep_/)
    const ip = async (service: string) =>
      (
        await sh([
          "docker",
          "inspect",
          "-f",
          "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
          `${project}_${service}_1`,
        ])
      ).trim()
    const gateway = (
      await sh([
        "docker",
        "network",
        "inspect",
        "-f",
        "{{(index .IPAM.Config 0).Gateway}}",
        `${project}-sandbox`,
      ])
    ).trim()
    const targets = [
      { name: "postgres", host: await ip("postgres"), port: 5432 },
      { name: "valkey", host: await ip("valkey"), port: 6379 },
      { name: "api", host: await ip("api"), port: 3000 },
      { name: "host-published-api", host: gateway, port },
      // The internet side of the sandbox network (the Debian mirror is reachable from this machine).
      { name: "internet", host: "deb.debian.org", port: 80 },
    ]
    const res = await api(
      "/tasks/probe/trigger",
      { method: "POST", body: JSON.stringify({ payload: { targets } }) },
      stagingKey,
    )
    expect(res.status).toBe(201)
    const run = await waitRun(((await res.json()) as { id: string }).id, stagingKey)
    expect(run).toMatchObject({
      status: "succeeded",
      output: {
        postgres: false,
        valkey: false,
        api: false,
        "host-published-api": false,
        internet: true,
      },
    })
    // The control: the same postgres port answers on the compose network itself.
    const control = await sh([
      "docker",
      "run",
      "--rm",
      "--network",
      `${project}_default`,
      "helmr-local/bun:1.4.5",
      "sh",
      "-c",
      `nc -w 3 ${targets[0]!.host} 5432 </dev/null && echo open`,
    ])
    expect(control).toContain("open")
  }, 600_000)

  test("restarts of every service under load, then down and up: nothing lost, nothing twice", async () => {
    const created = await api("/schedules", {
      method: "POST",
      body: JSON.stringify({
        task: "nightly-maintenance",
        cron: "* * * * *",
        deduplicationKey: "every-minute",
      }),
    })
    expect(created.status).toBe(201)
    const schedule = (await created.json()) as { id: string }
    const since = new Date()

    const ids = new Map<string, string>()
    let stop = false
    let n = 0
    const load = (async () => {
      while (!stop) {
        const key = `load-${n++}`
        ids.set(key, await trigger(key))
        await Bun.sleep(700)
      }
    })()
    const recovery: Record<string, number> = {}
    for (const service of ["api", "dispatcher", "runner", "postgres", "valkey"]) {
      const t0 = Date.now()
      await compose("restart", service)
      await waitHealthy()
      recovery[service] = Date.now() - t0
    }
    const t0 = Date.now()
    await compose("down")
    await compose("up", "-d")
    await waitHealthy()
    recovery["down+up"] = Date.now() - t0
    // Let the schedule cross one more minute with everything up.
    await Bun.sleep(65_000)
    stop = true
    await load
    console.log(`compose recovery (ms): ${JSON.stringify(recovery)}; ${ids.size} triggered runs`)

    // Every trigger: one run, the same one for a retried key, and it finished (retried if a runner
    // restart cut it) — none lost or stuck.
    for (const [key, id] of ids) {
      expect({ key, again: await trigger(key) }).toEqual({ key, again: id })
      const run = await waitRun(id)
      expect({ id, status: run.status }).toEqual({ id, status: "succeeded" })
    }
    expect(new Set(ids.values()).size).toBe(ids.size)
    const loadRuns = Number(
      await psql("select count(*) from runs where idempotency_key like 'load-%'"),
    )
    expect(loadRuns).toBe(ids.size)

    // Every minute since the schedule was made is accounted for: fired once (one run), or skipped.
    const instance = (
      await psql(`select id from schedule_instances where schedule_id = '${schedule.id}'`)
    ).trim()
    const slots = (
      await psql(
        `select extract(epoch from slot_at)::bigint, outcome, coalesce(extract(epoch from last_slot_at)::bigint, 0), coalesce(run_id, '') from schedule_slots where instance_id = '${instance}' order by slot_at`,
      )
    )
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [at, outcome, last, runId] = line.split("|")
        return { at: Number(at), outcome, last: Number(last), runId }
      })
    const dupes = await psql(
      `select count(*) from (select idempotency_key from runs where idempotency_key like 'sched:${instance}:%' group by 1 having count(*) > 1) d`,
    )
    expect(Number(dupes)).toBe(0)
    const firstDue = Math.floor(since.getTime() / 60_000) * 60 + 60
    const lastDue = Math.floor(Date.now() / 60_000) * 60 - 60
    const unaccounted: number[] = []
    for (let minute = firstDue; minute <= lastDue; minute += 60) {
      const covered = slots.some(
        (s) => s.at === minute || (s.outcome === "skipped" && s.at <= minute && s.last >= minute),
      )
      if (!covered) unaccounted.push(minute)
    }
    expect(unaccounted).toEqual([])
    const fired = slots.filter((s) => s.outcome === "fired")
    expect(fired.length).toBeGreaterThanOrEqual(2)
    for (const slot of fired) expect(slot.runId).toMatch(/^run_/)
    // The schedule keeps firing: count the runs of the slots read above, not of a slot that
    // came due since.
    const lastRead = Math.max(...slots.map((s) => s.at))
    const scheduledRuns = Number(
      await psql(
        `select count(*) from runs where idempotency_key like 'sched:${instance}:%' and slot_at <= to_timestamp(${lastRead})`,
      ),
    )
    expect(scheduledRuns).toBe(fired.length)
  }, 1_200_000)
})
