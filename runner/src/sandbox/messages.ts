import type { SandboxMessage } from "@helmr/sdk/runtime/protocol"
import { unframeLine } from "@helmr/sdk/runtime/protocol"
import { z } from "zod"

/** Sandbox → runner messages, checked: they come from a process running user code. */

const SerializedError = z.object({
  name: z.string(),
  message: z.string(),
  stack: z.string().optional(),
  retryable: z.boolean().optional(),
  data: z.unknown().optional(),
})

const Message = z.union([
  z.object({ type: z.literal("ready"), protocol: z.number(), at: z.number() }),
  z.object({ type: z.literal("started"), at: z.number() }),
  z.object({
    type: z.literal("log"),
    level: z.enum(["debug", "info", "warn", "error"]),
    message: z.string(),
    data: z.unknown().optional(),
    at: z.number(),
  }),
  z.object({
    type: z.literal("call"),
    id: z.number().int().positive(),
    method: z.string().max(64),
    params: z.unknown(),
  }),
  z.object({ type: z.literal("result"), ok: z.literal(true), output: z.unknown() }),
  z.object({ type: z.literal("result"), ok: z.literal(false), error: SerializedError }),
  // Sizes and names are checked by the sinks, which report what they refuse.
  z.object({ type: z.literal("metadata"), metadata: z.record(z.string(), z.unknown()) }),
  z.object({ type: z.literal("stream"), name: z.string(), chunks: z.array(z.string()) }),
])

/** A protocol message, or null when the line is plain task output (or a broken frame). */
export function parseSandboxLine(nonce: string, line: string): SandboxMessage | null {
  const json = unframeLine(nonce, line)
  if (json === null) return null
  try {
    const parsed = Message.safeParse(JSON.parse(json))
    return parsed.success ? (parsed.data as SandboxMessage) : null
  } catch {
    return null
  }
}
