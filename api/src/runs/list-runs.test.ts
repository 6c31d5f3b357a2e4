import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { insertRuns } from "@helmr/migrations/queries/insert-runs"
import type { NewRun } from "@helmr/migrations/queries/runs"
import { insertTestDeployment, startTestApi, type TestApi, testManifest } from "../testing.ts"
import { listRuns } from "./list-runs.ts"

let api: TestApi
let environmentId = ""
/** An untagged or tagged run of the environment's current deployment. */
let run: (tags: string[]) => NewRun
beforeAll(async () => {
  api = await startTestApi("listruns")
  environmentId = api.project.environments[0]?.id ?? ""
  const manifest = testManifest([{ id: "t" }])
  const { projectId } = api.project
  const deploymentId = await insertTestDeployment(api.db.sql, {
    environmentId,
    projectId,
    manifest,
  })
  run = (tags) => ({ environmentId, deploymentId, taskId: "t", payload: null, tags })
})
afterAll(() => api.close())

describe("listRuns by tag", () => {
  test("finds the runs holding every tag asked for, untagged runs never", async () => {
    const [a, b] = await insertRuns(api.db.sql, [run(["x", "y"]), run(["x"]), run([]), run(["y"])])
    const ids = async (tag: string[]) =>
      (await listRuns(api.db.sql, environmentId, { tag, limit: 100 })).rows.map((r) => r.id).sort()
    expect(await ids(["x"])).toEqual([a!.id, b!.id].sort())
    expect(await ids(["x", "y"])).toEqual([a!.id])
    expect(await ids(["z"])).toEqual([])
  })

  test("the tag filter can use the index of tagged runs (untagged runs have no entry in it)", async () => {
    const plan = await api.db.sql.begin(async (tx) => {
      await tx`set local enable_seqscan = off`
      // The listing's tag condition (list-runs.ts), alone so no other index competes.
      return tx.unsafe(
        "explain select id from runs where tags @> array['x']::text[] and cardinality(tags) > 0",
      )
    })
    expect(plan.map((row) => Object.values(row)[0]).join("\n")).toContain("runs_tagged_idx")
  })
})
