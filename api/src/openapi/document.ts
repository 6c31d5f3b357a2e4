import { z } from "zod"
import { COMPONENTS, OPERATIONS, type Operation } from "./operations.ts"

type Json = Record<string, unknown>

const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  201: "Created",
  400: "Malformed JSON",
  401: "Missing, unknown or revoked API key",
  404: "Not found in this environment",
  405: "Method not allowed",
  409: "Conflict with the current state",
  413: "Body too large",
  415: "Body is not JSON",
  422: "Validation failed (details name each failing path)",
  429: "Rate limited (see Retry-After)",
}

function jsonSchema(schema: z.ZodType, io: "input" | "output"): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Json
  return rest
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })

function parametersOf(op: Operation): Json[] {
  const params: Json[] = [...op.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: "path",
    required: true,
    schema: { type: "string" },
  }))
  for (const [name, field] of Object.entries(op.query?.shape ?? {})) {
    const schema = jsonSchema(field as z.ZodType, "input")
    params.push({ name, in: "query", required: false, schema, explode: true })
  }
  if (op.path.endsWith("/events")) {
    params.push({
      name: "Last-Event-ID",
      in: "header",
      required: false,
      schema: { type: "string" },
    })
  }
  return params
}

function operationOf(op: Operation): Json {
  const responses: Json = {}
  for (const [status, name] of Object.entries(op.responses)) {
    const description = STATUS_TEXT[Number(status)] ?? "OK"
    responses[status] =
      name === "sse"
        ? { description, content: { "text/event-stream": { schema: ref("RunEvent") } } }
        : name
          ? { description, content: { "application/json": { schema: ref(name) } } }
          : { description }
  }
  for (const status of [...op.errors, 401, 405, 429]) {
    responses[status] = {
      description: STATUS_TEXT[status] ?? "Error",
      content: { "application/json": { schema: ref("ErrorEnvelope") } },
    }
  }
  return {
    summary: op.summary,
    tags: [op.tag],
    operationId: `${op.method}${op.path.replace(/\{(\w+)\}/g, "By_$1").replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? "").toUpperCase())}`,
    parameters: parametersOf(op),
    ...(op.body
      ? {
          requestBody: {
            required: true,
            content: { "application/json": { schema: ref(op.body) } },
          },
        }
      : {}),
    responses,
  }
}

/** The OpenAPI 3.1 document of `/api/v1`, generated from the zod contract. */
export function buildOpenApiDocument(): Json {
  const paths: Record<string, Json> = {}
  for (const op of OPERATIONS) {
    const path = `/api/v1${op.path}`
    paths[path] = { ...(paths[path] ?? {}), [op.method]: operationOf(op) }
  }
  const schemas: Json = {}
  for (const [name, schema] of Object.entries(COMPONENTS)) {
    schemas[name] = jsonSchema(schema, name.endsWith("Body") ? "input" : "output")
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Helmr API",
      version: "1",
      description: "Every route takes `Authorization: Bearer <environment API key>`.",
    },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }],
    tags: ["deployments", "runs", "schedules", "secrets", "sessions", "tokens"].map((name) => ({
      name,
    })),
    paths,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas,
    },
  }
}
