import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  NONCE_ENV,
  type RunnerMessage,
  type SandboxMessage,
  type StartMessage,
  unframeLine,
} from "./protocol.ts"

// The in-sandbox runtime as a process: what it does with the messages its runner writes to stdin.

let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "helmr-entry-"))
  await writeFile(
    join(dir, "bundle.js"),
    `export const greet = {
  id: "greet",
  payload: { safeParse: (value) => ({ success: true, data: value }) },
  run: async (payload) => ({ hello: payload.name }),
}
export const chatty = {
  id: "chatty",
  run: async () => {
    process.stdout.write("raw one\\n")
    console.log("logged", { n: 2 })
    process.stdout.write(new TextEncoder().encode("raw three\\n"))
    await new Promise((resolve) => process.stdout.write("raw four\\n", resolve))
    return { fd: process.stdout.fd }
  },
}
`,
  )
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

function start(): StartMessage {
  return {
    type: "start",
    protocol: 1,
    run: { id: "run_entrytest", attempt: 1 },
    task: { id: "greet", exportName: "greet", kind: "task" },
    session: { id: "sess_entrytest" },
    workspace: dir,
    entry: join(dir, "bundle.js"),
    payload: { name: "ada" },
  }
}

/** Runs the runtime, writes `messages` to its stdin, and returns what it framed on stdout. */
async function runRuntime(messages: RunnerMessage[]): Promise<SandboxMessage[]> {
  return (await runRuntimeLines(messages)).flatMap((line) =>
    typeof line === "string" ? [] : [line],
  )
}

/** runRuntime with the plain lines too, in the order they came: plain lines as strings. */
async function runRuntimeLines(messages: RunnerMessage[]): Promise<(SandboxMessage | string)[]> {
  const nonce = "n0nce"
  const proc = Bun.spawn(["bun", join(import.meta.dir, "entry.ts")], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", [NONCE_ENV]: nonce },
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  })
  for (const message of messages) {
    proc.stdin.write(`${JSON.stringify(message)}\n`)
    await proc.stdin.flush()
  }
  const text = await new Response(proc.stdout).text()
  await proc.exited
  const out: (SandboxMessage | string)[] = []
  for (const line of text.split("\n")) {
    const framed = unframeLine(nonce, line)
    if (framed !== null) out.push(JSON.parse(framed) as SandboxMessage)
    else if (line) out.push(line)
  }
  return out
}

describe("the sandbox runtime", () => {
  test("runs the task named by the start message", async () => {
    const out = await runRuntime([start()])
    expect(out.at(-1)).toEqual({ type: "result", ok: true, output: { hello: "ada" } })
  })

  test("a ping that arrives before the start message is not taken for it", async () => {
    // A loaded runner may ping between starting the container and sending the start message.
    const out = await runRuntime([{ type: "ping" }, { type: "ping" }, start()])
    expect(out.at(-1)).toEqual({ type: "result", ok: true, output: { hello: "ada" } })
  }, 20_000)

  test("the task's own process.stdout writes stay plain output, in order with its logs", async () => {
    const task = { id: "chatty", exportName: "chatty", kind: "task" as const }
    const lines = await runRuntimeLines([{ ...start(), task, payload: null }])
    const shown = lines.flatMap((line): unknown[] =>
      typeof line === "string"
        ? [line]
        : line.type === "log"
          ? [`log: ${line.message}`]
          : line.type === "result"
            ? [line]
            : [],
    )
    expect(shown).toEqual([
      "raw one",
      "log: logged { n: 2 }",
      "raw three",
      "raw four",
      { type: "result", ok: true, output: { fd: 1 } },
    ])
  })
})
