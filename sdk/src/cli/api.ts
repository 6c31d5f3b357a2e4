import type { z } from "zod"
import { ErrorEnvelope } from "../contract/errors.ts"
import type { CliConfig } from "./config.ts"
import { CliError } from "./errors.ts"

/**
 * The few API calls the CLI makes. Any error answer becomes a CliError carrying the API's
 * message and field issues; a network failure says which URL could not be reached.
 */
export async function callApi<S extends z.ZodType>(
  config: CliConfig,
  request: { method: "GET" | "POST" | "PUT" | "DELETE"; path: string; body?: unknown },
  schema: S,
): Promise<{ status: number; body: z.output<S> }> {
  const url = `${config.apiUrl}/api/v1${request.path}`
  let res: Response
  try {
    res = await fetch(url, {
      method: request.method,
      headers: {
        authorization: `Bearer ${config.apiKey}`,
        accept: "application/json",
        ...(request.body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
    })
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new CliError(`cannot reach the Helmr API at ${config.apiUrl}: ${reason}`)
  }
  const text = await res.text()
  let json: unknown
  try {
    json = text === "" ? undefined : JSON.parse(text)
  } catch {
    json = undefined
  }
  if (!res.ok) throw apiError(res.status, json, text)
  const parsed = schema.safeParse(json)
  if (!parsed.success) {
    throw new CliError(`unexpected answer from ${request.method} ${url} (HTTP ${res.status})`)
  }
  return { status: res.status, body: parsed.data }
}

function apiError(status: number, json: unknown, text: string): CliError {
  const envelope = ErrorEnvelope.safeParse(json)
  if (!envelope.success) {
    return new CliError(`the API answered HTTP ${status}: ${text.slice(0, 200) || "(no body)"}`)
  }
  const { code, message, details } = envelope.data.error
  const lines = Array.isArray(details)
    ? details.flatMap((d: unknown) => {
        const issue = d as { path?: unknown; message?: unknown }
        return typeof issue.message === "string"
          ? [`${typeof issue.path === "string" ? `${issue.path}: ` : ""}${issue.message}`]
          : []
      })
    : []
  const hint = status === 401 ? " (check HELMR_API_KEY)" : ""
  return new CliError(`${message}${hint} [${code}, HTTP ${status}]`, 1, lines)
}
