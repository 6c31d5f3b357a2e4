export { createValkey, type Valkey } from "./client.ts"
export { type ValkeyKeys, valkeyKeys } from "./keys.ts"
export { dequeueRun, enqueueRun, extendRunLease, leaseRuns } from "./run-queue.ts"
export {
  putScheduleEntry,
  readScheduleEntry,
  removeScheduleEntry,
  type ScheduleEntry,
} from "./schedule-entries.ts"
