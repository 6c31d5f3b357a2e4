import type { ErrorEnvelope } from "../contract/errors.ts"
import { ApiError, ConnectionError, MalformedAnswerError } from "./errors.ts"
import { type AnswerCheck, checkFields } from "./shape.ts"

/** A fetch the client can use: the global one, or any wrapper (retries, tracing, test doubles). */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>

/** How a client reaches the API. */
export interface ClientOptions {
  /** Base URL of the Helmr API, e.g. `https://helmr.example.com`. */
  apiUrl: string
  /** An environment API key (`hk_…`). */
  apiKey: string
  /** A fetch implementation; defaults to the global `fetch`. */
  fetch?: FetchLike
  /** Headers sent with every request. */
  headers?: Record<string, string>
}

export type Query = Record<string, string | number | readonly string[] | undefined>

export interface RequestOptions {
  body?: unknown
  query?: Query
  headers?: Record<string, string>
  signal?: AbortSignal
}

/** One configured connection to the API; the namespaces are built on it. */
export interface Transport {
  json<T>(
    method: string,
    path: string,
    check: AnswerCheck<T>,
    options?: RequestOptions,
  ): Promise<{ status: number; data: T }>
  /** A raw response for streaming; throws ApiError for an error status. */
  stream(path: string, options?: RequestOptions): Promise<Response>
}

export function createTransport(options: ClientOptions): Transport {
  if (!options.apiUrl) throw new TypeError("apiUrl is required")
  if (!options.apiKey) throw new TypeError("apiKey is required")
  const base = options.apiUrl.replace(/\/+$/, "")
  const doFetch: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init))

  const send = async (method: string, path: string, request: RequestOptions) => {
    const url = `${base}/api/v1${path}${toSearch(request.query)}`
    const headers: Record<string, string> = {
      authorization: `Bearer ${options.apiKey}`,
      ...options.headers,
      ...request.headers,
    }
    let body: string | undefined
    if (request.body !== undefined) {
      headers["content-type"] = "application/json"
      body = JSON.stringify(request.body)
    }
    let response: Response
    try {
      response = await doFetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        ...(request.signal ? { signal: request.signal } : {}),
      })
    } catch (error) {
      if (request.signal?.aborted) throw error
      throw new ConnectionError(`cannot reach the Helmr API at ${base}: ${String(error)}`, {
        cause: error,
      })
    }
    if (!response.ok) throw await toApiError(response)
    return response
  }

  return {
    async json(method, path, check, request = {}) {
      const response = await send(method, path, request)
      let value: unknown
      try {
        value = await response.json()
      } catch (error) {
        throw new MalformedAnswerError(`the API answered ${response.status} without JSON`, {
          cause: error,
        })
      }
      const parsed = check.safeParse(value)
      if (!parsed.success) {
        throw new MalformedAnswerError(
          `unexpected answer from ${method} ${path}: ${parsed.error.issues[0]?.message ?? "invalid"}`,
        )
      }
      return { status: response.status, data: parsed.data }
    },
    stream(path, request = {}) {
      return send("GET", path, {
        ...request,
        headers: { accept: "text/event-stream", ...request.headers },
      })
    },
  }
}

function toSearch(query: Query | undefined): string {
  if (!query) return ""
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue
    if (Array.isArray(value)) for (const v of value) params.append(key, v)
    else params.append(key, String(value))
  }
  const text = params.toString()
  return text ? `?${text}` : ""
}

async function toApiError(response: Response): Promise<ApiError> {
  const retry = response.headers.get("retry-after")
  const retryAfter = retry && /^\d+$/.test(retry) ? Number(retry) : undefined
  const text = await response.text().catch(() => "")
  let envelope: ErrorEnvelope | null = null
  try {
    const value: unknown = JSON.parse(text)
    const inner = (value as { error?: unknown } | null)?.error
    envelope =
      checkFields(value, { error: "object" }) === null &&
      checkFields(inner, { code: "string", message: "string" }) === null
        ? (value as ErrorEnvelope)
        : null
  } catch {
    envelope = null
  }
  if (!envelope) {
    return new ApiError(
      response.status,
      "unknown",
      `HTTP ${response.status}: ${text.slice(0, 200) || response.statusText}`,
      undefined,
      response.headers.get("x-request-id") ?? undefined,
      retryAfter,
    )
  }
  const { code, message, details, requestId } = envelope.error
  return new ApiError(response.status, code, message, details, requestId, retryAfter)
}
