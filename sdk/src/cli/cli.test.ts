import { describe, expect, test } from "bun:test"
import { image } from "../authoring/image.ts"
import { sandbox } from "../authoring/sandbox.ts"
import { task } from "../authoring/task.ts"
import { parseArgs } from "./args.ts"
import { CollectError, collectTasks } from "./collect-tasks.ts"
import { readConfig } from "./config.ts"
import { CliError } from "./errors.ts"
import { runCli } from "./main.ts"
import { type Output, processOutput } from "./output.ts"

const flags = {
  env: { type: "string", short: "e" },
  promote: { type: "boolean", short: "p" },
} as const

describe("parseArgs", () => {
  test("long, short, inline values, booleans and --", () => {
    expect(parseArgs(["--env", "dev", "-p", "x", "--", "--not-a-flag"], flags, "hint")).toEqual({
      positionals: ["x", "--not-a-flag"],
      strings: { env: "dev" },
      booleans: { promote: true },
    })
    expect(parseArgs(["--env=prod"], flags, "hint").strings.env).toBe("prod")
    expect(parseArgs(["-e", "staging"], flags, "hint").strings.env).toBe("staging")
  })

  test.each([
    [["--nope"], "unknown option '--nope'"],
    [["--env"], "option '--env' needs a value"],
    [["--env", "--promote"], "option '--env' needs a value"],
    [["--promote=yes"], "option '--promote' takes no value"],
  ])("%j is a usage error", (argv, message) => {
    try {
      parseArgs(argv, flags, "Run 'helmr x --help' for usage.")
      throw new Error("expected a usage error")
    } catch (error) {
      expect(error).toBeInstanceOf(CliError)
      expect((error as CliError).exitCode).toBe(2)
      expect((error as CliError).message).toBe(`${message}\nRun 'helmr x --help' for usage.`)
    }
  })
})

describe("readConfig", () => {
  test("needs a key, defaults the URL, refuses bad URLs", () => {
    expect(() => readConfig({})).toThrow("HELMR_API_KEY is not set")
    expect(readConfig({ HELMR_API_KEY: "k" })).toEqual({
      apiUrl: "http://localhost:3000",
      apiKey: "k",
    })
    expect(readConfig({ HELMR_API_KEY: "k", HELMR_API_URL: "https://h.example/" }).apiUrl).toBe(
      "https://h.example",
    )
    expect(() => readConfig({ HELMR_API_KEY: "k", HELMR_API_URL: "ftp://x" })).toThrow(
      "must be an http:// or https:// URL",
    )
  })
})

describe("collectTasks", () => {
  const rt = image("collect").from("alpine")
  const sb = sandbox("collect").image(rt)

  test("one entry per task, sandbox and image; the same task under two names counts once", () => {
    const a = task({ id: "collect-a", sandbox: sb, run: () => 1 })
    const b = task({ id: "collect-b", sandbox: sb, run: () => 2 })
    const draft = collectTasks(
      { b, a, alias: a, other: 42 },
      new Map<string, object>([
        ["collect-a", a],
        ["collect-b", b],
      ]),
    )
    expect(draft.tasks.map((t) => [t.id, t.exportName])).toEqual([
      ["collect-a", "a"],
      ["collect-b", "b"],
    ])
    expect(draft.sandboxes.map((s) => s.name)).toEqual(["collect"])
    expect(draft.images.map((i) => i.name)).toEqual(["collect"])
  })

  test("two different images under one name are refused, naming the task", () => {
    const one = task({
      id: "img-one",
      sandbox: sandbox("s1").image(image("same").from("alpine")),
      run: () => 1,
    })
    const two = task({
      id: "img-two",
      sandbox: sandbox("s2").image(image("same").from("debian")),
      run: () => 1,
    })
    expect(() => collectTasks({ one, two }, new Map())).toThrow(
      new CollectError(
        'task "img-two": image "same" differs from the image of the same name used by task "img-one"; give different images different names',
      ),
    )
  })
})

describe("runCli", () => {
  const capture = () => {
    const lines = { result: [] as string[], progress: [] as string[], error: [] as string[] }
    const out: Output = {
      result: (l) => lines.result.push(l),
      progress: (l) => lines.progress.push(l),
      error: (l) => lines.error.push(l),
    }
    return { out, lines }
  }

  test("no command prints the help; an unknown one is a usage error", async () => {
    const help = capture()
    expect(await runCli([], {}, help.out)).toBe(0)
    expect(help.lines.result[0]).toStartWith("helmr — deploy and manage Helmr task projects")
    const bad = capture()
    expect(await runCli(["deplyo"], {}, bad.out)).toBe(2)
    expect(bad.lines.error).toEqual([
      "helmr: error: unknown command 'deplyo'\nRun 'helmr --help' for the commands.",
    ])
  })

  test("a bad --env name and a bad deployment id are refused before any request", async () => {
    const env = { HELMR_API_KEY: "k", HELMR_API_URL: "http://127.0.0.1:1" }
    const badEnv = capture()
    expect(await runCli(["deploy", "--env", "Prod!"], env, badEnv.out)).toBe(2)
    expect(badEnv.lines.error[0]).toContain("--env 'Prod!' is not an environment name")
    const badId = capture()
    expect(await runCli(["promote", "v3", "--env", "dev"], env, badId.out)).toBe(2)
    expect(badId.lines.error[0]).toContain("'v3' is not a deployment id (dep_…)")
  })

  test("processOutput writes results to stdout", () => {
    expect(typeof processOutput().result).toBe("function")
  })
})
