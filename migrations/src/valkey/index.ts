export { createValkey, type Valkey } from "./client.ts"
export { type ValkeyKeys, valkeyKeys } from "./keys.ts"
export { dequeueRun, enqueueRun, enqueueRuns, extendRunLease, leaseRuns } from "./run-queue.ts"
export {
  putScheduleEntry,
  readScheduleEntry,
  removeScheduleEntry,
  type ScheduleEntry,
} from "./schedule-entries.ts"
export {
  dropOrphanScheduleMembers,
  type EntrySwap,
  type EntryToken,
  earliestScheduleDue,
  formatEntryToken,
  type LeasedEntry,
  leaseScheduleEntries,
  parseEntryToken,
  swapScheduleEntries,
} from "./schedule-leases.ts"
export {
  leaseTimers,
  parseTimerMember,
  putTimer,
  removeLeasedTimer,
  type TimerKind,
  timerMember,
} from "./timers.ts"
