import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { scheduleMath } from "@helmr/dispatcher/schedule/math"
import { spawnDispatcher, waitHealthy } from "@helmr/dispatcher/testing/processes"
import { definitionOf, upsertSchedule } from "@helmr/migrations/queries/schedules"
import { TEST_VALKEY_URL } from "@helmr/migrations/testing"
import { putScheduleEntry } from "@helmr/migrations/valkey"
import { waitForRun } from "@helmr/runner/testing/deployments"
import type { Page } from "playwright-core"
import { type DashboardBrowser, launchDashboardBrowser } from "./testing/browser.ts"
import { type DashboardStack, OPERATOR, startDashboardStack } from "./testing/stack.ts"

// The dashboard in headless Chromium against the real API, Postgres, Valkey and a real runner.
// The tests run in order on one signed-in page, as an operator would use it.

let stack: DashboardStack
let b: DashboardBrowser
let page: Page
let base = ""

beforeAll(async () => {
  stack = await startDashboardStack("h13dash")
  b = await launchDashboardBrowser()
  page = b.page
  base = `${stack.url}/p/${stack.projectSlug}/dev`
}, 120_000)

afterAll(async () => {
  await b?.close()
  await stack?.close()
}, 60_000)

const runIdFromUrl = () => /\/runs\/(run_[0-9a-z]+)/.exec(page.url())?.[1] ?? ""
const statusText = () => page.locator("#run-status").textContent()
const detailsContain = (text: string) =>
  page.waitForFunction(
    (t) => document.querySelector("#run-details")?.textContent?.includes(t) === true,
    text,
  )

describe("dashboard in a browser", () => {
  test("a signed-out request is refused: pages redirect to sign-in, writes are 401", async () => {
    const response = await fetch(`${base}/keys`, {
      method: "POST",
      body: new URLSearchParams({ _csrf: "x" }),
      redirect: "manual",
    })
    expect(response.status).toBe(401)
    const keys = await stack.harness.db.sql`select id from api_keys`
    expect(keys).toHaveLength(3)
    await page.goto(`${base}/runs`)
    expect(new URL(page.url()).pathname).toBe("/sign-in")
    await b.capture("sign-in")
  }, 60_000)

  test("sign in: a wrong password is refused, the right one lands on the runs page", async () => {
    await page.fill("#email", OPERATOR.email)
    await page.fill("#password", "not the password")
    await page.click("button[type=submit]")
    await page.waitForSelector("text=Wrong email or password.")
    await page.fill("#password", OPERATOR.password)
    await page.click("button[type=submit]")
    await page.waitForURL(`${base}/runs`)
    const cookies = await b.context.cookies()
    const session = cookies.find((c) => c.name === "helmr_session")
    expect(session).toMatchObject({ httpOnly: true, sameSite: "Lax" })
    await page.waitForSelector("text=No runs yet")
    await b.capture("runs-empty")
  }, 60_000)

  test("trigger a run and see its logs arrive live, without reloading", async () => {
    await page.click("nav.sections >> text=Trigger")
    await page.click("text=ticker")
    await b.capture("trigger")
    await page.click("text=Trigger run")
    await page.waitForURL(/\/runs\/run_/)
    // A marker on the window: it is gone if the page reloads.
    await page.evaluate(() => {
      ;(window as unknown as { marker: number }).marker = 42
    })
    await page.waitForSelector("ol.log >> text=tick 2")
    expect(await statusText()).toBe("running")
    // Metadata follows while the run goes (re-read with the log, at most every 2 s).
    await detailsContain('"total": 8')
    await page.waitForSelector("ol.log >> text=tick 8")
    await page.waitForFunction(
      () => document.querySelector("#run-status")?.textContent === "succeeded",
    )
    // The details were refreshed in place when the run ended: the output is there.
    await detailsContain('"ticks": 8')
    // Metadata and the session's stream, as the runtime wrote them.
    await detailsContain('"done": 8')
    await detailsContain('{"tick":8}')
    expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(42)
    await b.capture("run-succeeded")
  }, 120_000)

  test("the payload is checked against the task's schema before it is sent", async () => {
    await page.goto(`${base}/trigger?task=greet`)
    await page.fill("#payload", '{ "name": 5 }')
    await page.waitForSelector("#payload-check >> text=payload.name")
    const before = await stack.harness.db.sql`select id from runs where task_id = 'greet'`
    await page.click("text=Trigger run")
    await page.waitForTimeout(500)
    expect(new URL(page.url()).pathname).toBe(`/p/${stack.projectSlug}/dev/trigger`)
    expect(await stack.harness.db.sql`select id from runs where task_id = 'greet'`).toHaveLength(
      before.length,
    )
    await b.capture("trigger-invalid-payload")
    await page.fill("#payload", '{ "name": "ada", "times": 2 }')
    await page.waitForSelector("#payload-check >> text=matches the task's schema")
    await page.click("text=Trigger run")
    await page.waitForURL(/\/runs\/run_/)
    await detailsContain('"greeting": "hello adahello ada"')
  }, 120_000)

  test("a failed run shows its error with the stack", async () => {
    await page.goto(`${base}/trigger?task=fails`)
    await page.click("text=Trigger run")
    await page.waitForURL(/\/runs\/run_/)
    await page.waitForSelector("#run-details >> text=the answer was out of range")
    await page.waitForSelector("#run-details pre >> text=RangeError")
    await b.capture("run-failed")
  }, 120_000)

  test("cancel a running run", async () => {
    await page.goto(`${base}/trigger?task=sleeper`)
    await page.click("text=Trigger run")
    await page.waitForURL(/\/runs\/run_/)
    const runId = runIdFromUrl()
    await page.waitForSelector("ol.log >> text=sleeping until canceled")
    await page.click("text=Cancel run")
    await page.waitForURL(`${base}/runs/${runId}`)
    const done = await waitForRun(stack.harness.db.sql, runId, ["canceled"], 60_000)
    expect(done.status).toBe("canceled")
    await page.waitForFunction(
      () => document.querySelector("#run-status")?.textContent === "canceled",
    )
    await page.goto(`${base}/runs?status=canceled`)
    await page.waitForSelector(`text=${runId}`)
    await page.goto(`${base}/runs`)
    await b.capture("runs")
  }, 120_000)
})

describe("schedules", () => {
  test("create, edit, deactivate, activate and delete an imperative schedule", async () => {
    await page.goto(`${base}/schedules`)
    await b.capture("schedules")
    await page.click("text=New schedule")
    await page.selectOption("#task", "sweep")
    await page.fill("#cron", "15 3 * * *")
    await page.fill("#timezone", "Europe/Paris")
    // Explained in words, with the next five fires, while typing.
    await page.waitForSelector("#cron-preview >> text=At 03:15")
    expect(await page.locator("#cron-preview li").count()).toBe(5)
    await page.fill("#cron", "15 3 * *")
    await page.waitForSelector("#cron-preview >> text=must have 5 fields")
    await page.fill("#cron", "15 3 * * *")
    await page.waitForSelector("#cron-preview >> text=At 03:15")
    await page.fill("#deduplicationKey", "h13-sweep")
    await page.selectOption("#overlap", "skip")
    await page.fill("#catchupWindow", "5m")
    await b.capture("schedule-new")
    await page.click("text=Create schedule")
    await page.waitForSelector("text=Schedule created.")
    await page.waitForSelector("text=03:15:00 GMT+1")
    const [row] = await stack.harness.db.sql<{ cron: string; active: boolean }[]>`
      select s.cron, i.active from schedules s join schedule_instances i on i.schedule_id = s.id
      where s.deduplication_key = 'h13-sweep'`
    expect(row).toEqual({ cron: "15 3 * * *", active: true })
    const [policy] = await stack.harness.db.sql<{ overlap: string; catchupWindowMs: string }[]>`
      select i.overlap, i.catchup_window_ms from schedules s
      join schedule_instances i on i.schedule_id = s.id where s.deduplication_key = 'h13-sweep'`
    expect(policy).toEqual({ overlap: "skip", catchupWindowMs: expect.anything() })
    expect(Number(policy?.catchupWindowMs)).toBe(300_000)

    await page.click("text=Edit")
    await page.fill("#cron", "45 4 * * 1-5")
    await page.waitForSelector("#cron-preview >> text=Monday through Friday")
    await b.capture("schedule-edit")
    await page.click("text=Save")
    await page.waitForSelector("text=Schedule saved.")
    await page.waitForSelector("text=At 04:45, Monday through Friday")

    await page.click("button:has-text('Deactivate')")
    await page.waitForSelector("text=Schedule deactivated.")
    await page.waitForSelector("text=None: the schedule is inactive.")
    await page.click("button:has-text('Activate')")
    await page.waitForSelector("text=Schedule activated.")
    const [after] = await stack.harness.db.sql<{ cron: string; active: boolean }[]>`
      select s.cron, i.active from schedules s join schedule_instances i on i.schedule_id = s.id
      where s.deduplication_key = 'h13-sweep'`
    expect(after).toEqual({ cron: "45 4 * * 1-5", active: true })
    // Editing the cron kept the policy the form showed.
    await page.waitForSelector("dd >> text=5m")
    await b.capture("schedule-imperative")

    await page.click("button:has-text('Delete')")
    await page.waitForSelector("text=Schedule h13-sweep deleted.")
    expect(await page.locator("text=h13-sweep").count()).toBe(1) // the flash only
    expect(
      await stack.harness.db.sql`select id from schedules where deduplication_key = 'h13-sweep'`,
    ).toHaveLength(0)
  }, 120_000)

  test("a declarative schedule is owned by source and refuses edits", async () => {
    await page.goto(`${base}/schedules`)
    await page.click("a:has-text('nightly')")
    await page.waitForSelector("#owned-by-source")
    expect(await page.getByRole("link", { name: "Edit", exact: true }).count()).toBe(0)
    expect(await page.locator("button:has-text('Deactivate')").count()).toBe(0)
    expect(await page.locator("button:has-text('Delete')").count()).toBe(0)
    await b.capture("schedule-declarative")
    const path = new URL(page.url()).pathname
    const edit = await page.goto(`${stack.url}${path}/edit`)
    expect(edit?.status()).toBe(409)
    await page.waitForSelector("text=owned by task source")
    await b.capture("error-declarative-edit")
    // A forged deactivation with a valid CSRF token is refused by the same rule as the API.
    await page.goto(`${stack.url}${path}`)
    const status = await page.evaluate(async (url) => {
      const token = document.querySelector('meta[name="csrf-token"]')?.getAttribute("content")
      const res = await fetch(url, {
        method: "POST",
        body: new URLSearchParams({ _csrf: token ?? "" }),
      })
      return res.status
    }, `${stack.url}${path}/deactivate`)
    expect(status).toBe(409)
    const [instance] = await stack.harness.db.sql<{ active: boolean }[]>`
      select i.active from schedule_instances i join schedules s on s.id = i.schedule_id
      where s.task_id = 'nightly'`
    expect(instance?.active).toBe(true)
  }, 120_000)

  test("a skipped slot shows with its reason", async () => {
    const { harness, deps, caller } = stack
    // An every-minute schedule whose dispatcher was down for five minutes: the real dispatcher
    // fires the due slot and records the ones it missed as one skipped range (no backfill).
    const { view } = await upsertSchedule(
      { ...deps, math: scheduleMath },
      caller,
      "h13-minutely",
      definitionOf({ task: "sweep", cron: "* * * * *", timezone: "UTC" }),
      new Date(),
    )
    const due = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 5 * 60_000)
    await harness.db.sql`update schedule_instances set next_fire_at = ${due}
      where id = ${view.instanceId}`
    await putScheduleEntry(deps.valkey, deps.keys, {
      instanceId: view.instanceId,
      version: view.version,
      nextFireAt: due,
    })
    // A real dispatcher process on this test's database and key prefix.
    const dispatcher = await spawnDispatcher({
      HELMR_DATABASE_URL: harness.db.url,
      HELMR_VALKEY_URL: TEST_VALKEY_URL,
      HELMR_KEY_PREFIX: harness.vk.prefix,
      HELMR_DISPATCHER_ID: `h13-dispatcher-${harness.testLabel}`,
      HELMR_DISPATCHER_POLL_MS: "50",
    })
    try {
      await waitHealthy(dispatcher, 60_000)
      const deadline = Date.now() + 60_000
      for (;;) {
        const slots = await harness.db.sql`
          select outcome from schedule_slots where instance_id = ${view.instanceId}
            and outcome = 'skipped'`
        if (slots.length > 0) break
        if (Date.now() > deadline) throw new Error(`no skipped slot recorded:\n${dispatcher.log()}`)
        await Bun.sleep(200)
      }
    } finally {
      dispatcher.signal("SIGTERM")
      await dispatcher.exited
    }
    await page.goto(`${base}/schedules/${view.id}`)
    await page.waitForSelector("#slot-counters >> text=skipped")
    await page.waitForSelector("td >> text=missed:")
    expect(await page.locator(".slot-reason").first().textContent()).toContain(
      "no dispatcher could fire it in time",
    )
    await page.waitForSelector("td .badge.s-fired")
    await b.capture("schedule-slots")
  }, 120_000)
})

describe("deployments, secrets, keys", () => {
  test("promote a deployment and roll it back, confirming the schedule changes", async () => {
    await page.goto(`${base}/deployments`)
    await b.capture("deployments")
    await page.click(`a:has-text('${stack.v2}')`)
    await page.waitForSelector("text=Image graph")
    await b.capture("deployment")
    await page.click("text=Promote v2")
    await page.waitForSelector("#schedule-changes")
    expect(await page.locator("#schedule-changes").textContent()).toContain(
      "Changes nightly from 0 3 * * * (UTC) to 30 4 * * * (UTC)",
    )
    await b.capture("promote-confirm")
    await page.click("text=Confirm: Promote v2")
    await page.waitForSelector("text=v2 is now current; 0 schedule(s) created, 1 changed")
    const [env] = await stack.harness.db.sql<{ currentDeploymentId: string }[]>`
      select current_deployment_id from environments where id = ${stack.harness.environmentId}`
    expect(env?.currentDeploymentId).toBe(stack.v2)

    await page.goto(`${base}/deployments`)
    await page.click("text=Roll back to v1")
    expect(await page.locator("#schedule-changes").textContent()).toContain(
      "Changes nightly from 30 4 * * * (UTC) to 0 3 * * * (UTC)",
    )
    await page.click("text=Confirm: Roll back to v1")
    await page.waitForSelector("text=v1 is now current")
    const [back] = await stack.harness.db.sql<{ cron: string }[]>`
      select s.cron from schedules s join schedule_instances i on i.schedule_id = s.id
      where s.task_id = 'nightly' and i.environment_id = ${stack.harness.environmentId}`
    expect(back?.cron).toBe("0 3 * * *")
  }, 120_000)

  test("set a secret and see only its name; delete it", async () => {
    await page.goto(`${base}/secrets`)
    await page.fill("#secret-name", "OPENAI_API_KEY")
    await page.fill("#secret-value", "sk-very-secret-value")
    await page.click("text=Save secret")
    await page.waitForSelector("text=Secret OPENAI_API_KEY created.")
    await page.waitForSelector("td >> text=OPENAI_API_KEY")
    expect(await page.content()).not.toContain("sk-very-secret-value")
    await b.capture("secrets")
    await page.click("button[aria-label='Delete OPENAI_API_KEY']")
    await page.waitForSelector("text=Secret OPENAI_API_KEY deleted.")
    expect(await stack.harness.db.sql`select name from secrets`).toHaveLength(0)
  }, 60_000)

  test("a form post without its CSRF token is refused and writes nothing", async () => {
    await page.goto(`${base}/secrets`)
    const status = await page.evaluate(async (url) => {
      const res = await fetch(url, {
        method: "POST",
        body: new URLSearchParams({ name: "FORGED", value: "x" }),
      })
      return res.status
    }, `${base}/secrets`)
    expect(status).toBe(403)
    const wrong = await page.evaluate(async (url) => {
      const res = await fetch(url, {
        method: "POST",
        body: new URLSearchParams({ _csrf: "not-the-token", name: "FORGED", value: "x" }),
      })
      return res.status
    }, `${base}/secrets`)
    expect(wrong).toBe(403)
    expect(await stack.harness.db.sql`select name from secrets`).toHaveLength(0)
  }, 60_000)

  test("create a key (shown once) and revoke it", async () => {
    await page.goto(`${base}/keys`)
    await page.click("text=Create a key")
    const key = (await page.locator("#new-key").textContent())?.trim() ?? ""
    expect(key).toMatch(/^hk_dev_[0-9A-Za-z]{40}$/)
    await b.capture("keys")
    const whoami = () =>
      fetch(`${stack.url}/api/v1/whoami`, { headers: { authorization: `Bearer ${key}` } })
    expect((await whoami()).status).toBe(200)
    await page.goto(`${base}/keys`)
    expect(await page.content()).not.toContain(key)
    const prefix = key.slice(0, 13)
    await page.click(`button[aria-label='Revoke ${prefix}']`)
    await page.waitForSelector(`text=Key ${prefix}… revoked.`)
    expect((await whoami()).status).toBe(401)
  }, 60_000)

  test("a new environment's pages say what to do next", async () => {
    const staging = `${stack.url}/p/${stack.projectSlug}/staging`
    await page.goto(`${staging}/deployments`)
    await page.waitForSelector("text=Nothing deployed yet")
    await page.waitForSelector("text=helmr deploy --env staging")
    await b.capture("deployments-empty")
    await page.goto(`${staging}/schedules`)
    await page.waitForSelector("text=No schedules yet")
    await b.capture("schedules-empty")
    await page.goto(`${staging}/trigger`)
    await page.waitForSelector("text=No tasks deployed")
    await b.capture("trigger-empty")
    await page.goto(`${staging}/secrets`)
    await page.waitForSelector("text=No secrets yet")
    await b.capture("secrets-empty")
    // An environment the operator is not a member of is not found.
    const other = await page.goto(`${stack.url}/p/${stack.projectSlug}/nope/runs`)
    expect(other?.status()).toBe(404)
    await b.capture("not-found")
  }, 60_000)

  test("keyboard: skip link first, the environment switcher opens and navigates", async () => {
    await page.goto(`${base}/runs`)
    await page.keyboard.press("Tab")
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content")
    await page.keyboard.press("Tab") // the brand
    await page.keyboard.press("Tab") // the switcher
    await page.keyboard.press("Enter")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab") // dev, then staging
    expect(await page.evaluate(() => document.activeElement?.textContent)).toContain("staging")
    await page.keyboard.press("Enter")
    await page.waitForURL(`${stack.url}/p/${stack.projectSlug}/staging/runs`)
  }, 60_000)

  test("sign out everywhere ends the session", async () => {
    await page.goto(`${base}/runs`)
    const cookie = (await b.context.cookies()).find((c) => c.name === "helmr_session")
    await page.click("text=Sign out everywhere")
    await page.waitForSelector("text=Signed out everywhere")
    const response = await fetch(`${base}/runs`, {
      headers: { cookie: `helmr_session=${cookie?.value}` },
      redirect: "manual",
    })
    expect(response.status).toBe(303)
    expect(response.headers.get("location")).toStartWith("/sign-in")
  }, 60_000)

  test("no page has a serious or critical accessibility violation", () => {
    expect(b.captured.length).toBe(24)
    // 1280 px light and dark, and 390 px: every page at both widths.
    expect(b.axeRuns).toBe(b.captured.length * 3)
    expect(b.violations).toEqual([])
  })
})
