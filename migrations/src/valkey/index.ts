export { createValkey, type Valkey } from "./client.ts"
export { type ValkeyKeys, valkeyKeys } from "./keys.ts"
export { leaseDue } from "./lease-due.ts"
export {
  parseRunMessage,
  publishRunMessage,
  RunChannelMessage,
} from "./run-channel.ts"
export {
  dequeueRun,
  dequeueRuns,
  enqueueRun,
  enqueueRuns,
  type LeasedRuns,
  leaseRunBatch,
  leaseRuns,
  parseRunWake,
} from "./run-queue.ts"
export {
  type EntryToken,
  formatEntryToken,
  parseEntryToken,
  putScheduleEntry,
  readScheduleEntry,
  removeScheduleEntry,
  type ScheduleEntry,
} from "./schedule-entries.ts"
export { defineScripts, type LuaScript, readLuaScript } from "./scripts.ts"
export {
  decodeStreamNotice,
  encodeStreamNotice,
  STREAM_NOTICE_MAX_CHARS,
  type StreamNotice,
} from "./stream-notice.ts"
export {
  leaseTimers,
  parseTimerMember,
  putTimer,
  type TimerKind,
  timerMember,
} from "./timers.ts"
