import { createHash } from "node:crypto"
import { bootstrapProject } from "@helmr/migrations/bootstrap"
import type { Sql } from "@helmr/migrations/db"
import { newId } from "@helmr/migrations/ids"
import {
  putScheduleEntry,
  removeScheduleEntry,
  type Valkey,
  type ValkeyKeys,
} from "@helmr/migrations/valkey"

/**
 * Test and benchmark fixtures written straight to Postgres, plus the two Valkey calls the API
 * makes after its writes. The HTTP API is built elsewhere; these do what it does, row for row.
 */

export interface SeededEnvironment {
  projectId: string
  environmentId: string
  deploymentId: string
}

/** A project, its `dev` environment, and a promoted deployment holding `tasks`. */
export async function seedEnvironment(
  sql: Sql,
  options: { slug: string; tasks?: string[]; promote?: boolean },
): Promise<SeededEnvironment> {
  const boot = await bootstrapProject(sql, { slug: options.slug, environments: ["dev"] })
  const environmentId = (boot.environments[0] as { id: string }).id
  const content = new TextEncoder().encode(`bundle ${options.slug}`)
  const digest = `sha256:${createHash("sha256").update(content).digest("hex")}`
  await sql`insert into blobs (project_id, digest, size, content)
    values (${boot.projectId}, ${digest}, ${content.length}, ${content})
    on conflict do nothing`
  const deploymentId = newId("dep")
  const manifest = {
    version: 1,
    entry: "index.js",
    tasks: (options.tasks ?? ["nightly"]).map((id) => ({
      id,
      kind: "scheduled",
      exportName: id,
      sandbox: "default",
      maxDuration: 300,
      secrets: [],
      payloadSchema: null,
    })),
    sandboxes: [],
    images: [],
  }
  // Written as built: nothing here is promoted through the API or built by a runner.
  await sql`insert into deployments (id, project_id, environment_id, version, content_digest,
      bundle_digest, manifest, build_status)
    values (${deploymentId}, ${boot.projectId}, ${environmentId}, 1, ${digest}, ${digest},
      ${sql.json(manifest)}, 'ready')`
  if (options.promote !== false) {
    await sql`update deployments set promoted_at = now() where id = ${deploymentId}`
    await sql`update environments set current_deployment_id = ${deploymentId}
      where id = ${environmentId}`
  }
  return { projectId: boot.projectId, environmentId, deploymentId }
}

export interface SeededInstance {
  scheduleId: string
  instanceId: string
  version: string
  nextFireAt: Date
}

export interface InstanceSeed {
  cron: string
  timezone?: string
  taskId?: string
  externalId?: string | null
  runOptions?: Record<string, unknown>
  /** The cursor: the slot the instance fires next (seed it in the past to make it due). */
  nextFireAt: Date
}

/** Logical schedules and their instances in one environment, in one statement each. */
export async function seedInstances(
  sql: Sql,
  env: SeededEnvironment,
  seeds: readonly InstanceSeed[],
): Promise<SeededInstance[]> {
  const rows = seeds.map((seed) => ({
    scheduleId: newId("sched"),
    instanceId: newId("schedi"),
    seed,
  }))
  for (let start = 0; start < rows.length; start += 2_000) {
    const chunk = rows.slice(start, start + 2_000)
    await sql`insert into schedules (id, project_id, kind, task_id, cron, timezone,
        deduplication_key, external_id)
      select * from unnest(${chunk.map((r) => r.scheduleId)}::text[],
        ${chunk.map(() => env.projectId)}::text[], ${chunk.map(() => "imperative")}::text[],
        ${chunk.map((r) => r.seed.taskId ?? "nightly")}::text[],
        ${chunk.map((r) => r.seed.cron)}::text[],
        ${chunk.map((r) => r.seed.timezone ?? "UTC")}::text[],
        ${chunk.map((r) => `dk-${r.scheduleId}`)}::text[],
        ${chunk.map((r) => r.seed.externalId ?? null)}::text[])`
    await sql`insert into schedule_instances (id, schedule_id, environment_id, run_options,
        next_fire_at)
      select id, schedule_id, environment_id, run_options::jsonb, next_fire_at
      from unnest(${chunk.map((r) => r.instanceId)}::text[],
        ${chunk.map((r) => r.scheduleId)}::text[], ${chunk.map(() => env.environmentId)}::text[],
        ${chunk.map((r) => JSON.stringify(r.seed.runOptions ?? {}))}::text[],
        ${chunk.map((r) => r.seed.nextFireAt.toISOString())}::timestamptz[])
        as t(id, schedule_id, environment_id, run_options, next_fire_at)`
  }
  return rows.map((r) => ({
    scheduleId: r.scheduleId,
    instanceId: r.instanceId,
    version: "1",
    nextFireAt: r.seed.nextFireAt,
  }))
}

/** What the API does after creating or activating: put the next-fire entry. */
export async function putEntries(
  valkey: Valkey,
  keys: ValkeyKeys,
  instances: readonly SeededInstance[],
): Promise<void> {
  for (let start = 0; start < instances.length; start += 1_000) {
    await Promise.all(
      instances.slice(start, start + 1_000).map((i) =>
        putScheduleEntry(valkey, keys, {
          instanceId: i.instanceId,
          version: i.version,
          nextFireAt: i.nextFireAt,
        }),
      ),
    )
  }
}

/**
 * An API update as the API performs it: bump the version and set the new cursor (a row update,
 * so it waits for any fire holding the row), then replace the entry. Returns the new version.
 */
export async function updateInstance(
  sql: Sql,
  valkey: Valkey,
  keys: ValkeyKeys,
  instanceId: string,
  change: { cron?: string; nextFireAt: Date },
): Promise<string> {
  const [row] = await sql.begin(async (tx) => {
    if (change.cron) {
      await tx`update schedules set cron = ${change.cron}, updated_at = now()
        where id = (select schedule_id from schedule_instances where id = ${instanceId})`
    }
    return tx<{ version: string }[]>`
      update schedule_instances
      set version = version + 1, next_fire_at = ${change.nextFireAt}, active = true,
        updated_at = now()
      where id = ${instanceId}
      returning version`
  })
  if (!row) throw new Error(`no instance ${instanceId}`)
  await putScheduleEntry(valkey, keys, {
    instanceId,
    version: row.version,
    nextFireAt: change.nextFireAt,
  })
  return row.version
}

/** An API deactivation: version bump, no cursor, entry removed. Resolves when acknowledged. */
export async function deactivateInstance(
  sql: Sql,
  valkey: Valkey,
  keys: ValkeyKeys,
  instanceId: string,
): Promise<void> {
  await sql`update schedule_instances
    set active = false, next_fire_at = null, version = version + 1, updated_at = now()
    where id = ${instanceId}`
  await removeScheduleEntry(valkey, keys, instanceId)
}

/** An API delete of an imperative schedule: the logical schedule and its instances go. */
export async function deleteSchedule(
  sql: Sql,
  valkey: Valkey,
  keys: ValkeyKeys,
  scheduleId: string,
): Promise<void> {
  const instances = await sql<{ id: string }[]>`
    delete from schedule_instances where schedule_id = ${scheduleId} returning id`
  await sql`delete from schedules where id = ${scheduleId}`
  for (const { id } of instances) await removeScheduleEntry(valkey, keys, id)
}
