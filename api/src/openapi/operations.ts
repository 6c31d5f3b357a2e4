import {
  CompleteTokenBody,
  CreateScheduleBody,
  DeletedSchedule,
  DeletedSecret,
  ErrorEnvelope,
  ListRunsQuery,
  ListSchedulesQuery,
  PutSecretBody,
  Run,
  RunEvent,
  RunList,
  Schedule,
  ScheduleList,
  Secret,
  SecretList,
  TimezoneList,
  TokenCompletion,
  TriggerBody,
  TriggerResponse,
  UpdateScheduleBody,
} from "@helmr/sdk/contract"
import type { z } from "zod"

/** Schemas published under `components.schemas`, by name. */
export const COMPONENTS: Record<string, z.ZodType> = {
  ErrorEnvelope,
  TriggerBody,
  TriggerResponse,
  Run,
  RunList,
  RunEvent,
  CreateScheduleBody,
  UpdateScheduleBody,
  Schedule,
  ScheduleList,
  DeletedSchedule,
  TimezoneList,
  PutSecretBody,
  Secret,
  SecretList,
  DeletedSecret,
  CompleteTokenBody,
  TokenCompletion,
}

export interface Operation {
  method: "get" | "post" | "put" | "delete"
  /** OpenAPI path under /api/v1, `{param}` style. */
  path: string
  summary: string
  tag: string
  query?: z.ZodObject
  /** Name of a COMPONENTS entry. */
  body?: string
  /** Status → COMPONENTS name, or `sse` for an event stream, or null for no body. */
  responses: Record<number, string | null>
  /** Error statuses this operation answers beyond 401/429 (every one carries ErrorEnvelope). */
  errors: number[]
}

/** Every `/api/v1` operation, in the order of the document. */
export const OPERATIONS: Operation[] = [
  {
    method: "post",
    path: "/tasks/{taskId}/trigger",
    summary: "Trigger a run of a task of the current deployment",
    tag: "runs",
    body: "TriggerBody",
    responses: { 201: "TriggerResponse", 200: "Run" },
    errors: [400, 404, 413, 415, 422],
  },
  {
    method: "get",
    path: "/runs",
    summary: "List runs, newest first",
    tag: "runs",
    query: ListRunsQuery,
    responses: { 200: "RunList" },
    errors: [422],
  },
  {
    method: "get",
    path: "/runs/{runId}",
    summary: "Retrieve a run",
    tag: "runs",
    responses: { 200: "Run" },
    errors: [404],
  },
  {
    method: "post",
    path: "/runs/{runId}/cancel",
    summary: "Cancel a run",
    tag: "runs",
    responses: { 200: "Run" },
    errors: [404, 409],
  },
  {
    method: "post",
    path: "/runs/{runId}/replay",
    summary: "Run the task again with the same payload",
    tag: "runs",
    responses: { 201: "TriggerResponse" },
    errors: [404, 422],
  },
  {
    method: "get",
    path: "/runs/{runId}/events",
    summary: "Stream the run's events (SSE, resumable with Last-Event-ID)",
    tag: "runs",
    responses: { 200: "sse" },
    errors: [404, 422],
  },
  {
    method: "post",
    path: "/schedules",
    summary: "Create or update an imperative schedule by deduplicationKey",
    tag: "schedules",
    body: "CreateScheduleBody",
    responses: { 201: "Schedule", 200: "Schedule" },
    errors: [400, 409, 422],
  },
  {
    method: "get",
    path: "/schedules",
    summary: "List schedules of the environment",
    tag: "schedules",
    query: ListSchedulesQuery,
    responses: { 200: "ScheduleList" },
    errors: [422],
  },
  {
    method: "get",
    path: "/schedules/{idOrDeduplicationKey}",
    summary: "Retrieve a schedule by id or deduplication key",
    tag: "schedules",
    responses: { 200: "Schedule" },
    errors: [404],
  },
  {
    method: "put",
    path: "/schedules/{idOrDeduplicationKey}",
    summary: "Replace an imperative schedule's definition",
    tag: "schedules",
    body: "UpdateScheduleBody",
    responses: { 200: "Schedule" },
    errors: [400, 404, 409, 422],
  },
  {
    method: "delete",
    path: "/schedules/{idOrDeduplicationKey}",
    summary: "Delete an imperative schedule from the environment",
    tag: "schedules",
    responses: { 200: "DeletedSchedule" },
    errors: [404, 409],
  },
  {
    method: "post",
    path: "/schedules/{idOrDeduplicationKey}/activate",
    summary: "Activate an imperative schedule",
    tag: "schedules",
    responses: { 200: "Schedule" },
    errors: [404, 409],
  },
  {
    method: "post",
    path: "/schedules/{idOrDeduplicationKey}/deactivate",
    summary: "Deactivate an imperative schedule",
    tag: "schedules",
    responses: { 200: "Schedule" },
    errors: [404, 409],
  },
  {
    method: "get",
    path: "/timezones",
    summary: "IANA time zones schedules accept",
    tag: "schedules",
    responses: { 200: "TimezoneList" },
    errors: [],
  },
  {
    method: "get",
    path: "/secrets",
    summary: "List secret names (never values)",
    tag: "secrets",
    responses: { 200: "SecretList" },
    errors: [],
  },
  {
    method: "put",
    path: "/secrets/{name}",
    summary: "Set a secret",
    tag: "secrets",
    body: "PutSecretBody",
    responses: { 201: "Secret", 200: "Secret" },
    errors: [400, 422],
  },
  {
    method: "delete",
    path: "/secrets/{name}",
    summary: "Delete a secret",
    tag: "secrets",
    responses: { 200: "DeletedSecret" },
    errors: [404, 422],
  },
  {
    method: "post",
    path: "/tokens/{tokenId}/complete",
    summary: "Complete a waitpoint token",
    tag: "tokens",
    body: "CompleteTokenBody",
    responses: { 200: "TokenCompletion" },
    errors: [400, 404, 409, 422],
  },
]
