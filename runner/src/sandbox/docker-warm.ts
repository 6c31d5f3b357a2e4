import { randomBytes } from "node:crypto"
import { NONCE_ENV, WARM_ORPHAN_ENV } from "@helmr/sdk/runtime/protocol"
import type Docker from "dockerode"
import { attachedSandbox, attachStream, ignoring } from "./docker-attach.ts"
import type { OutputStream, WarmLaunch, WarmSandbox } from "./driver.ts"
import {
  assignedWarmName,
  type SandboxPolicy,
  warmCreateOptions,
  workspaceLabels,
  workspaceVolumeName,
} from "./policy.ts"

/**
 * Warm sandboxes on Docker. A warm container has a volume of its own (`helmr-wp-…`) as its
 * workspace, since no session is known yet. Assigning it creates the session's workspace volume
 * as a bind of that volume's directory: a later attempt of the run mounts the session's volume as
 * usual and finds the same files. Removing the session's workspace removes both (the session
 * volume names its pool volume in a label).
 */

export const POOL_VOLUME_LABEL = "helmr.pool-volume"

export async function startWarmContainer(
  docker: Docker,
  policy: SandboxPolicy,
  launch: WarmLaunch,
  orphanMs: number,
): Promise<WarmSandbox> {
  const id = randomBytes(8).toString("hex")
  const volumeName = `helmr-wp-${id}`
  await docker.createVolume({
    Name: volumeName,
    Labels: { ...policy.labels, "helmr.kind": "workspace-pool" },
  })
  const removeVolume = () => ignoring([404, 409], () => docker.getVolume(volumeName).remove())
  const nonce = randomBytes(12).toString("hex")
  let container: Docker.Container
  let mountpoint: string
  try {
    // One after the other (in the background, off any run's path): a failure leaves nothing.
    mountpoint = (await docker.getVolume(volumeName).inspect()).Mountpoint
    container = await docker.createContainer(
      warmCreateOptions(launch, policy, {
        id,
        volume: volumeName,
        env: { HOME: "/tmp", [NONCE_ENV]: nonce, [WARM_ORPHAN_ENV]: String(orphanMs) },
      }),
    )
  } catch (error) {
    await removeVolume()
    throw error
  }
  // Output before the assignment (the runtime's `ready`) waits here for the run's handler.
  const early: [OutputStream, string][] = []
  let handler: (stream: OutputStream, line: string) => void = (stream, line) =>
    void early.push([stream, line])
  const removeAll = async () => {
    await ignoring([404, 409], () => container.remove({ force: true, v: true }))
    await removeVolume()
  }
  let attached: Awaited<ReturnType<typeof attachStream>>
  try {
    attached = await attachStream(container, (stream, line) => handler(stream, line))
    await container.start()
  } catch (error) {
    await removeAll()
    throw error
  }
  const sandbox = attachedSandbox(container, attached, launch.workspace)
  let assigned = false
  return {
    id: container.id,
    nonce,
    prepared: launch.prepared,
    exited: sandbox.exited,
    ping: () => sandbox.send({ type: "ping" }),
    assign(run, onLine) {
      if (assigned) throw new Error(`warm sandbox ${container.id} was already assigned`)
      assigned = true
      handler = onLine
      for (const [stream, line] of early.splice(0)) onLine(stream, line)
      const settled = Promise.all([
        container.rename({ name: assignedWarmName(run.runId, run.attempt, run.sessionId) }),
        docker.createVolume({
          Name: workspaceVolumeName(run.sessionId),
          Driver: "local",
          DriverOpts: { type: "none", o: "bind", device: mountpoint },
          Labels: { ...workspaceLabels(policy, run.sessionId), [POOL_VOLUME_LABEL]: volumeName },
        }),
      ]).then(() => {})
      return { sandbox, settled }
    },
    async remove() {
      attached.stream.destroy()
      await removeAll()
    },
  }
}

/** Removes a session's workspace volume, and the warm pool volume it binds, if any. */
export async function removeWorkspaceVolume(docker: Docker, sessionId: string): Promise<void> {
  const volume = docker.getVolume(workspaceVolumeName(sessionId))
  let pool: string | undefined
  try {
    pool = (await volume.inspect()).Labels?.[POOL_VOLUME_LABEL]
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return
    throw error
  }
  await ignoring([404, 409], () => volume.remove())
  if (pool) await ignoring([404, 409], () => docker.getVolume(pool).remove())
}

/**
 * Pool volumes of this owner no session volume binds and no container uses: those of warm
 * containers that went away unassigned (a dead runner's). Volumes in use refuse removal (409).
 */
export async function removeUnboundPoolVolumes(docker: Docker, owner: string): Promise<number> {
  const [pools, sessions] = await Promise.all([
    docker.listVolumes({ filters: { label: [owner, "helmr.kind=workspace-pool"] } }),
    docker.listVolumes({ filters: { label: [POOL_VOLUME_LABEL] } }),
  ])
  const bound = new Set((sessions.Volumes ?? []).map((v) => v.Labels?.[POOL_VOLUME_LABEL]))
  let removed = 0
  for (const v of pools.Volumes ?? []) {
    if (bound.has(v.Name)) continue
    try {
      await docker.getVolume(v.Name).remove()
      removed += 1
    } catch (error) {
      if (![404, 409].includes((error as { statusCode?: number }).statusCode ?? 0)) throw error
    }
  }
  return removed
}
