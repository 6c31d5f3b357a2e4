export {
  checkDefinition,
  logicalChanged,
  type ScheduleDefinition,
  type ScheduleMath,
  sameRunOptions,
  type TaskKindLookup,
} from "./schedule-definition.ts"
export {
  createScheduleOp,
  definitionOf,
  deleteScheduleOp,
  listSchedulesOp,
  retrieveScheduleOp,
  type ScheduleContext,
  setScheduleActiveOp,
  updateScheduleOp,
} from "./schedule-operations.ts"
export {
  findSchedule,
  type ScheduleViewRow,
  scheduleViewFrom,
  toSchedule,
  UPCOMING_COUNT,
} from "./schedule-view.ts"
export {
  type Caller,
  declarative,
  deleteSchedule,
  type ScheduleDeps,
  setScheduleActive,
  updateSchedule,
  upsertSchedule,
} from "./schedule-writes.ts"
