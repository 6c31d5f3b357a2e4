import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { nextOccurrence } from "@helmr/dispatcher/schedule"
import { readScheduleEntry } from "@helmr/migrations/valkey"
import { Deployment, PromoteDeploymentResponse } from "@helmr/sdk/contract"
import { startTestApi, type TestApi } from "../testing.ts"
import { buildUpload, type TestTask } from "./testing.ts"

let api: TestApi
beforeAll(async () => {
  api = await startTestApi("i3promote", {}, { builder: true })
})
afterAll(() => api.close())

const request = (env: string, path: string, body?: unknown) =>
  api.app.request(`/api/v1${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${api.apiKeys[env]}`, "content-type": "application/json" },
    body: JSON.stringify(body ?? {}),
  })

async function deploy(env: string, tasks: TestTask[], salt = ""): Promise<Deployment> {
  const res = await request(env, "/deployments", buildUpload(tasks, { salt }))
  expect([200, 201]).toContain(res.status)
  const deployment = Deployment.parse(await res.json())
  expect(await api.waitForBuild(deployment.id)).toBe("ready")
  return deployment
}

async function promote(env: string, id: string): Promise<PromoteDeploymentResponse> {
  const res = await request(env, `/deployments/${id}/promote`)
  expect(res.status).toBe(200)
  return PromoteDeploymentResponse.parse(await res.json())
}

const envId = (slug: string) => api.project.environments.find((e) => e.slug === slug)!.id

interface InstanceView {
  instanceId: string
  scheduleId: string
  taskId: string
  cron: string
  timezone: string
  kind: string
  deploymentId: string | null
  version: string
  nextFireAt: Date | null
  updatedAt: Date
}

async function instances(env: string): Promise<InstanceView[]> {
  return api.db.sql<InstanceView[]>`
    select si.id as instance_id, si.schedule_id, s.task_id, s.cron, s.timezone, s.kind,
      si.deployment_id, si.version, si.next_fire_at, si.updated_at
    from schedule_instances si join schedules s on s.id = si.schedule_id
    where si.environment_id = ${envId(env)} order by s.task_id`
}

const logicalSchedules = () =>
  api.db.sql<{ id: string; taskId: string; cron: string; deduplicationKey: string }[]>`
    select id, task_id, cron, deduplication_key from schedules order by task_id, cron`

const currentOf = async (env: string) =>
  (
    await api.db.sql<{ currentDeploymentId: string | null }[]>`
    select current_deployment_id from environments where id = ${envId(env)}`
  )[0]?.currentDeploymentId

describe("promotion reconciles declarative schedules", () => {
  test("create, change, remove; rollback restores; re-promotion changes nothing", async () => {
    const v1 = await deploy(
      "dev",
      [
        { id: "api-task" },
        { id: "nightly", cron: "0 2 * * *" },
        { id: "hourly", cron: "0 * * * *" },
      ],
      "v1",
    )
    const before = Date.now()
    const first = await promote("dev", v1.id)
    expect(first.changed).toBe(true)
    expect(first.deployment).toMatchObject({ id: v1.id, current: true })
    expect(first.schedules.created.map((s) => s.taskId).sort()).toEqual(["hourly", "nightly"])
    expect(await currentOf("dev")).toBe(v1.id)

    const created = await instances("dev")
    expect(created.map((i) => [i.taskId, i.cron, i.kind, i.deploymentId, i.version])).toEqual([
      ["hourly", "0 * * * *", "declarative", v1.id, "1"],
      ["nightly", "0 2 * * *", "declarative", v1.id, "1"],
    ])
    for (const instance of created) {
      // The first fire is the next occurrence after the promotion, and Valkey holds it.
      const expected = nextOccurrence(instance.cron, "UTC", new Date(before - 1000))
      expect(instance.nextFireAt!.getTime()).toBeGreaterThanOrEqual(expected.getTime())
      const entry = await readScheduleEntry(api.valkey.valkey, api.valkey.keys, instance.instanceId)
      expect(entry).toEqual({ version: "1", slot: instance.nextFireAt! })
    }

    // v2: nightly moves to 03:00, hourly is removed, weekly is new.
    const v2 = await deploy(
      "dev",
      [
        { id: "api-task" },
        { id: "nightly", cron: "0 3 * * *" },
        { id: "weekly", cron: "0 9 * * MON", timezone: "Europe/Paris" },
      ],
      "v2",
    )
    const second = await promote("dev", v2.id)
    expect(second.schedules.created.map((s) => s.taskId)).toEqual(["weekly"])
    expect(second.schedules.updated.map((s) => [s.taskId, s.cron])).toEqual([
      ["nightly", "0 3 * * *"],
    ])
    expect(second.schedules.removed.map((s) => s.taskId)).toEqual(["hourly"])
    const afterV2 = await instances("dev")
    expect(afterV2.map((i) => [i.taskId, i.cron, i.timezone, i.version])).toEqual([
      ["nightly", "0 3 * * *", "UTC", "2"],
      ["weekly", "0 9 * * MON", "Europe/Paris", "1"],
    ])
    const nightly = afterV2[0]!
    // The instance is the same one (its cursor history stays), on a new logical schedule.
    expect(nightly.instanceId).toBe(created[1]!.instanceId)
    expect(nightly.nextFireAt!.getUTCHours()).toBe(3)
    expect(await readScheduleEntry(api.valkey.valkey, api.valkey.keys, nightly.instanceId)).toEqual(
      {
        version: "2",
        slot: nightly.nextFireAt!,
      },
    )
    expect(
      await readScheduleEntry(api.valkey.valkey, api.valkey.keys, created[0]!.instanceId),
    ).toBeNull()
    // No environment holds the old logical schedules any more: they are gone.
    expect((await logicalSchedules()).map((s) => [s.taskId, s.cron])).toEqual([
      ["nightly", "0 3 * * *"],
      ["weekly", "0 9 * * MON"],
    ])

    // Re-promoting the current deployment, and re-deploying the same content, change nothing.
    const snapshot = { rows: await instances("dev"), logical: await logicalSchedules() }
    const again = await promote("dev", v2.id)
    expect(again.changed).toBe(false)
    expect(again.schedules.unchanged.map((s) => s.taskId)).toEqual(["nightly", "weekly"])
    expect(
      await deploy(
        "dev",
        [
          { id: "api-task" },
          { id: "nightly", cron: "0 3 * * *" },
          { id: "weekly", cron: "0 9 * * MON", timezone: "Europe/Paris" },
        ],
        "v2",
      ),
    ).toMatchObject({ id: v2.id })
    expect({ rows: await instances("dev"), logical: await logicalSchedules() }).toEqual(snapshot)

    // Rollback: promoting v1 again restores its schedules.
    const rollback = await promote("dev", v1.id)
    expect(rollback.changed).toBe(true)
    expect(await currentOf("dev")).toBe(v1.id)
    const restored = await instances("dev")
    expect(restored.map((i) => [i.taskId, i.cron, i.deploymentId])).toEqual([
      ["hourly", "0 * * * *", v1.id],
      ["nightly", "0 2 * * *", v1.id],
    ])
    expect(restored[1]!.instanceId).toBe(nightly.instanceId)
    expect(restored[1]!.version).toBe("3")
    const weeklyId = afterV2[1]!.instanceId
    expect(await readScheduleEntry(api.valkey.valkey, api.valkey.keys, weeklyId)).toBeNull()
    expect((await logicalSchedules()).map((s) => [s.taskId, s.cron])).toEqual([
      ["hourly", "0 * * * *"],
      ["nightly", "0 2 * * *"],
    ])
  })

  test("two environments hold instances of one logical schedule and stay independent", async () => {
    const same = [{ id: "report", cron: "30 6 * * *" }]
    const staging = await deploy("staging", same, "shared")
    const prod = await deploy("prod", same, "shared")
    await promote("staging", staging.id)
    await promote("prod", prod.id)
    const [stagingInstance] = await instances("staging")
    const [prodInstance] = await instances("prod")
    expect(stagingInstance!.scheduleId).toBe(prodInstance!.scheduleId)
    expect(stagingInstance!.instanceId).not.toBe(prodInstance!.instanceId)

    // Staging changes its cron: only staging's instance moves; prod keeps the logical schedule.
    const changed = await deploy("staging", [{ id: "report", cron: "45 6 * * *" }], "changed")
    await promote("staging", changed.id)
    const [stagingMoved] = await instances("staging")
    const [prodAfter] = await instances("prod")
    expect(stagingMoved!.cron).toBe("45 6 * * *")
    expect(stagingMoved!.scheduleId).not.toBe(prodInstance!.scheduleId)
    expect(prodAfter).toEqual(prodInstance!)
    const reports = (await logicalSchedules()).filter((s) => s.taskId === "report")
    expect(reports.map((s) => s.cron)).toEqual(["30 6 * * *", "45 6 * * *"])

    // Prod drops the schedule: its instance goes; the logical one stays while staging holds it.
    const dropped = await deploy("prod", [{ id: "report" }], "dropped")
    const result = await promote("prod", dropped.id)
    expect(result.schedules.removed.map((s) => s.taskId)).toEqual(["report"])
    expect(await instances("prod")).toEqual([])
    expect(
      (await logicalSchedules()).filter((s) => s.taskId === "report").map((s) => s.cron),
    ).toEqual(["45 6 * * *"])
    // Staging drops it too: now no instance remains and the logical schedule is deleted.
    const stagingDropped = await deploy("staging", [{ id: "report" }], "dropped")
    await promote("staging", stagingDropped.id)
    expect((await logicalSchedules()).filter((s) => s.taskId === "report")).toEqual([])
  })

  test("imperative schedules of the same task are left alone", async () => {
    await api.db.sql`
      insert into schedules (id, project_id, kind, task_id, cron, deduplication_key)
      values ('sched_imperative0000000000000000', ${api.project.projectId}, 'imperative', 'solo', '0 5 * * *', 'solo-main')`
    await api.db.sql`
      insert into schedule_instances (id, schedule_id, environment_id, next_fire_at)
      values ('schedi_imperative000000000000000', 'sched_imperative0000000000000000', ${envId("prod")}, now())`
    const d = await deploy("prod", [{ id: "solo", cron: "0 6 * * *" }], "solo")
    const result = await promote("prod", d.id)
    expect(result.schedules.created.map((s) => s.taskId)).toEqual(["solo"])
    const solo = (await instances("prod")).filter((i) => i.taskId === "solo")
    expect(solo.map((i) => i.kind).sort()).toEqual(["declarative", "imperative"])
    const none = await deploy("prod", [], "none")
    await promote("prod", none.id)
    expect((await instances("prod")).map((i) => i.kind)).toEqual(["imperative"])
  })
})
