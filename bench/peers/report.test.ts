import { describe, expect, test } from "bun:test"
import { table, withSection } from "./report.ts"

describe("bench/peers report", () => {
  test("one row per system with both scenarios, dashes where a system ran none", () => {
    const out = table(
      [
        {
          system: "bullmq",
          version: "6.7.6",
          settings: "defaults",
          burst: { count: 9, expected: 10, p50: 5, p99: 9.4, last: 10, perSecond: 900 },
          cron: { count: 20, expected: 20, p50: 1.2, p99: 3, max: 4 },
        },
        { system: "helmr, delayed runs", version: "this repo", settings: "x" },
      ],
      { jobs: 10, schedules: 10, minutes: 2 },
    )
    const lines = out.split("\n")
    const cells = (line: string | undefined) => line?.split("|").map((c) => c.trim())
    expect(cells(lines[0])).toContain("10 due at once: p50")
    expect(cells(lines[0])).toContain("10 every-minute × 2 min: p50")
    expect(cells(lines[2])?.join("|")).toBe(
      "|bullmq|6.7.6|defaults|5 ms|9 ms|10 ms (9/10 started)|900/s|1 ms|3 ms|4 ms|20/20|",
    )
    expect(cells(lines[3])?.join("|")).toBe("|helmr, delayed runs|this repo|x|—|—|—|—|—|—|—|—|")
    // Padded like the formatter writes Markdown tables: every line as long as the header.
    for (const line of lines) expect(line.length).toBe(lines[0]?.length as number)
  })

  test("the section goes before 'How to rerun' once, then replaces itself, keeping the rest", () => {
    const doc = "# B\n\n## bench/trigger\n\nt\n\n## How to rerun\n\nr\n"
    const once = withSection(doc, "## bench/peers\n\nfirst")
    expect(once).toBe(
      "# B\n\n## bench/trigger\n\nt\n\n## bench/peers\n\nfirst\n\n## How to rerun\n\nr\n",
    )
    expect(withSection(once, "## bench/peers\n\nsecond")).toBe(once.replace("first", "second"))
    expect(withSection("# B\n", "## bench/peers\n\nx")).toBe("# B\n\n## bench/peers\n\nx\n")
    expect(withSection("# B\n\n## bench/peers\n\nx\n", "## bench/peers\n\ny")).toBe(
      "# B\n\n## bench/peers\n\ny\n",
    )
  })
})
