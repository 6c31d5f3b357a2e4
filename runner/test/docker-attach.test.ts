import { afterAll, describe, expect, test } from "bun:test"
import { randomBytes } from "node:crypto"
import Docker from "dockerode"
import { attachedSandbox, attachStream } from "../src/sandbox/docker-attach.ts"
import { BASE_IMAGE } from "../src/testing/fixtures.ts"

// An attached sandbox removed before anyone awaited its end (the attempt failed on a Postgres
// write right after the start, and its cleanup removed the container): the whole-stack fault
// test saw the runner die of the unhandled 404 of `exited`'s inspect.

const docker = new Docker()
const label = `helmr.test=i15-attach-${randomBytes(3).toString("hex")}`

afterAll(async () => {
  const left = await docker.listContainers({ all: true, filters: { label: [label] } })
  for (const c of left) await docker.getContainer(c.Id).remove({ force: true })
})

async function started() {
  const [key = "", value = ""] = label.split("=")
  const container = await docker.createContainer({
    Image: BASE_IMAGE,
    Cmd: ["sleep", "60"],
    OpenStdin: true,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Labels: { [key]: value },
  })
  const attached = await attachStream(container, () => {})
  await container.start()
  return { container, attached }
}

describe("attached sandbox", () => {
  test("removed while nobody awaits its end: `exited` resolves with the wait's status", async () => {
    const { container, attached } = await started()
    const sandbox = attachedSandbox(container, attached, "/workspace")
    await sandbox.remove()
    // Long enough for the wait to return and the inspect to run; an unhandled rejection here
    // would fail this test file.
    await Bun.sleep(3_000)
    const exit = await sandbox.exited
    expect(exit.oomKilled).toBe(false)
    expect(exit.exitCode).toBe(137)
  }, 60_000)

  test("gone before its end was asked: `exited` rejects, but only for whoever awaits it", async () => {
    const { container, attached } = await started()
    await container.remove({ force: true })
    const sandbox = attachedSandbox(container, attached, "/workspace")
    await Bun.sleep(2_000)
    await expect(sandbox.exited).rejects.toMatchObject({ statusCode: 404 })
    expect(await docker.listContainers({ all: true, filters: { label: [label] } })).toEqual([])
  }, 60_000)

  test("its attach stream gone and the container still up: killed after the grace, the attempt ends", async () => {
    const { container, attached } = await started()
    const sandbox = attachedSandbox(container, attached, "/workspace", { streamLostGraceMs: 1_000 })
    // As when the engine restarts under a running sandbox: the channel breaks, no end is reported.
    attached.stream.destroy()
    const exit = await sandbox.exited
    expect(exit).toEqual({ exitCode: null, oomKilled: false })
    expect((await container.inspect()).State.Running).toBe(false)
    await container.remove({ force: true })
  }, 60_000)

  test("detached (left for the next runner process): never counted as lost", async () => {
    const { container, attached } = await started()
    const sandbox = attachedSandbox(container, attached, "/workspace", { streamLostGraceMs: 500 })
    sandbox.detach()
    const settled = await Promise.race([sandbox.exited.then(() => "ended"), Bun.sleep(2_000)])
    expect(settled).toBeUndefined()
    expect((await container.inspect()).State.Running).toBe(true)
    await container.remove({ force: true })
  }, 60_000)
})
