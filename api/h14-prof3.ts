import { z } from "zod"
import { insertTestDeployment, startTestApi } from "./src/testing.ts"

const api = await startTestApi("h14prof")
const dev = api.project.environments.find((e) => e.slug === "dev")!
await insertTestDeployment(api.db.sql, {
  environmentId: dev.id,
  projectId: api.project.projectId,
  manifest: {
    version: 1,
    entry: "index.js",
    tasks: [
      {
        id: "review-pr",
        kind: "task",
        exportName: "reviewPr",
        sandbox: "default",
        secrets: [],
        payloadSchema: z.toJSONSchema(
          z.object({ prNumber: z.number().int().positive(), repo: z.string().min(1) }),
        ) as Record<string, unknown>,
      },
    ],
    sandboxes: [{ name: "default", image: "default", workspace: "/workspace", network: "bridge" }],
    images: [{ name: "default", from: "helmr-local/bun:1.4.5", steps: [] }],
  } as never,
})
const key = api.apiKeys.dev!
const mode = process.argv[2] ?? "trigger"
const send = (i: number) =>
  mode === "whoami"
    ? api.app.request("/api/v1/whoami", { headers: { authorization: `Bearer ${key}` } })
    : api.app.request("/api/v1/tasks/review-pr/trigger", {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ payload: { prNumber: i + 1, repo: "web" } }),
      })
let n = 0
const run = async (secs: number) => {
  const end = performance.now() + secs * 1000
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (performance.now() < end) {
        const r = await send(n++)
        if (r.status >= 300) throw new Error(String(r.status))
        await r.arrayBuffer()
      }
    }),
  )
}
await run(1)
n = 0
const c0 = process.cpuUsage()
await run(5)
const c = process.cpuUsage(c0)
console.log(
  mode,
  `${(n / 5).toFixed(0)}/s`,
  `${((c.user + c.system) / 1000 / n).toFixed(3)} ms cpu/req`,
)
await api.close()
