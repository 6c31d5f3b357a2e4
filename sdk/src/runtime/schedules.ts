import { scheduleClientFunctions } from "../client/facade.ts"
import type { SchedulesNamespace } from "../client/schedules.ts"
import type {
  CreateScheduleBody,
  ListSchedulesQuery,
  UpdateScheduleBody,
} from "../contract/schedules.ts"
import { callRuntime, insideRun } from "./rpc.ts"

type Result<K extends keyof SchedulesNamespace> = Awaited<ReturnType<SchedulesNamespace[K]>>

async function call<K extends keyof SchedulesNamespace>(
  name: K,
  params: unknown,
): Promise<Result<K>> {
  return (await callRuntime(`schedules.${name}`, `schedules.${name}`, params)) as Result<K>
}

/**
 * The imperative schedule functions of the top-level `schedules` facade: inside a run they go
 * through the runner and act in the run's environment (the "runtime client"); elsewhere they use
 * the configured API client. `slots` and `timezones` always use the client.
 *
 * @example
 * ```ts
 * import { schedules } from "@helmr/sdk"
 * await schedules.create({ deduplicationKey: "nightly-main", task: "nightly", cron: "0 2 * * *" })
 * ```
 */
export const runtimeScheduleFunctions: SchedulesNamespace = {
  create: (body: CreateScheduleBody) =>
    insideRun() ? call("create", body) : scheduleClientFunctions.create(body),
  list: (query: ListSchedulesQuery = {}) =>
    insideRun() ? call("list", query) : scheduleClientFunctions.list(query),
  retrieve: (id: string) =>
    insideRun() ? call("retrieve", { id }) : scheduleClientFunctions.retrieve(id),
  update: (id: string, body: UpdateScheduleBody) =>
    insideRun() ? call("update", { id, body }) : scheduleClientFunctions.update(id, body),
  activate: (id: string) =>
    insideRun() ? call("activate", { id }) : scheduleClientFunctions.activate(id),
  deactivate: (id: string) =>
    insideRun() ? call("deactivate", { id }) : scheduleClientFunctions.deactivate(id),
  del: (id: string) => (insideRun() ? call("del", { id }) : scheduleClientFunctions.del(id)),
  // The slot history and the zone list are reads the runtime channel does not carry: the client.
  slots: (id, query) => scheduleClientFunctions.slots(id, query),
  timezones: () => scheduleClientFunctions.timezones(),
}
