import type { BatchResponse } from "../contract/batch.ts"
import type { ErrorEnvelope } from "../contract/errors.ts"
import type { Run, RunEvent, RunList, RunStreamEnd, TriggerResponse } from "../contract/runs.ts"
import type { ScheduleSlotList } from "../contract/schedule-slots.ts"
import type {
  DeletedSchedule,
  Schedule,
  ScheduleList,
  TimezoneList,
} from "../contract/schedules.ts"
import type { DeletedSecret, Secret, SecretList } from "../contract/secrets.ts"
import type { StreamEnd } from "../contract/streams.ts"
import type { CreatedToken, TokenCompletion } from "../contract/tokens.ts"
import { pageShape, shape } from "./shape.ts"

/**
 * The client's checks of each answer, typed with the contract's types (type-only imports: no
 * schema code reaches a bundle of the client). See shape.ts for why the checks are light.
 */
const runFields = { id: "string", taskId: "string", status: "string", createdAt: "string" } as const

export const RunAnswer = shape<Run>(runFields)
export const RunListAnswer = pageShape<RunList>(runFields)
export const TriggerAnswer = shape<TriggerResponse>({ id: "string" })
export const BatchResponseAnswer = shape<BatchResponse>({ runs: "array" })
export const RunEventAnswer = shape<RunEvent>({ id: "string", type: "string", createdAt: "string" })
export const RunStreamEndAnswer = shape<RunStreamEnd>({ id: "string", status: "string" })

const scheduleFields = {
  id: "string",
  task: "string",
  cron: "string",
  timezone: "string",
  active: "boolean",
  upcoming: "array",
} as const
export const ScheduleAnswer = shape<Schedule>(scheduleFields)
export const ScheduleListAnswer = pageShape<ScheduleList>(scheduleFields)
export const DeletedScheduleAnswer = shape<DeletedSchedule>({ id: "string", deleted: "boolean" })
export const TimezoneListAnswer = shape<TimezoneList>({ timezones: "array" })
export const ScheduleSlotListAnswer = pageShape<ScheduleSlotList>({
  slotAt: "string",
  outcome: "string",
})

export const SecretAnswer = shape<Secret>({ name: "string", updatedAt: "string" })
export const SecretListAnswer = shape<SecretList>({ data: "array" })
export const DeletedSecretAnswer = shape<DeletedSecret>({ name: "string", deleted: "boolean" })

export const StreamEndAnswer = shape<StreamEnd>({
  sessionId: "string",
  stream: "string",
  next: "number",
})

export const TokenCompletionAnswer = shape<TokenCompletion>({ id: "string", status: "string" })
export const CreatedTokenAnswer = shape<CreatedToken>({
  id: "string",
  url: "string",
  status: "string",
})

export const ErrorEnvelopeAnswer = shape<ErrorEnvelope>({ error: "object" })
