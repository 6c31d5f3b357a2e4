import { NONCE_ENV } from "@helmr/sdk/runtime/protocol"
import type Docker from "dockerode"
import type { ImageBuilder } from "../build/image-builder.ts"
import { bundleEntryPath } from "../build/image-hash.ts"
import {
  type AttachedStream,
  attachedSandbox,
  attachStream,
  httpStatus,
  ignoring,
  replayLogs,
} from "./docker-attach.ts"
import {
  removeUnboundPoolVolumes,
  removeWorkspaceVolume,
  startWarmContainer,
} from "./docker-warm.ts"
import type { SandboxDriver } from "./driver.ts"
import { createEngineHealth, EngineUnavailableError } from "./engine-health.ts"
import {
  parseAssignedWarmName,
  type SandboxPolicy,
  sandboxCreateOptions,
  workspaceVolumeName,
} from "./policy.ts"

/**
 * Sandboxes as hardened Docker containers (policy.ts), one per run attempt, with the session's
 * workspace as a named volume. The runtime's stdin, stdout and stderr travel over one hijacked
 * attach connection. Stdin stays open when the runner dies: a restarted runner (same id) adopts
 * the sandboxes of waiting runs and removes the others, warm ones included (docker-warm.ts).
 */

export interface DockerDriverOptions extends Omit<SandboxPolicy, "labels"> {
  docker: Docker
  builder: ImageBuilder
  /** Identifies this runner's containers and volumes (`helmr.owner`). */
  ownerId: string
  /** More labels for everything created (tests mark their objects). */
  labels?: Record<string, string>
}

export function createDockerDriver(options: DockerDriverOptions): SandboxDriver {
  const { docker } = options
  const labels = { ...options.labels, "helmr.owner": options.ownerId }
  const policy: SandboxPolicy = { ...options, labels }
  const health = createEngineHealth(() => docker.ping())
  /** An engine that stopped answering is reported as such (EngineUnavailableError). */
  const answered = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work()
    } catch (error) {
      throw health.failed(error) ? new EngineUnavailableError(error) : error
    }
  }

  const startSandbox: SandboxDriver["start"] = async (launch, onLine) => {
    const create = sandboxCreateOptions(launch, policy)
    // A container of the same attempt is only left by a crash: removed when the name is taken
    // (409), not looked for on every start (one round trip less).
    const container = await docker.createContainer(create).catch(async (error: unknown) => {
      if (httpStatus(error) !== 409 || !create.name) throw error
      await ignoring([404], () => docker.getContainer(create.name ?? "").remove({ force: true }))
      return docker.createContainer(create)
    })
    let attached: AttachedStream
    try {
      attached = await attachStream(container, onLine)
    } catch (error) {
      await ignoring([404], () => container.remove({ force: true, v: true }))
      throw error
    }
    try {
      await container.start()
    } catch (error) {
      attached.stream.destroy()
      await ignoring([404], () => container.remove({ force: true, v: true }))
      throw error
    }
    return attachedSandbox(container, attached, launch.workspace)
  }

  return {
    kind: "docker",

    ready: () => health.ready(),

    prepare: (request, progress) =>
      answered(async () => {
        const image = await options.builder.ensureSandboxImage(request, progress)
        return { ref: image.tag, entry: `/helmr/app/${bundleEntryPath(request.bundle.entry)}` }
      }),

    start: (launch, onLine) => answered(() => startSandbox(launch, onLine)),

    async listSandboxes() {
      const containers = await docker.listContainers({
        all: true,
        filters: { label: [`helmr.owner=${options.ownerId}`, "helmr.kind=sandbox"] },
      })
      return containers.flatMap((c) => {
        const running = c.State === "running"
        const run = c.Labels["helmr.run"]
        if (run) {
          const sessionId = c.Labels["helmr.session"] ?? ""
          return [
            {
              id: c.Id,
              runId: run,
              sessionId,
              attempt: Number(c.Labels["helmr.attempt"] ?? 0),
              running,
            },
          ]
        }
        // A warm container carries its run in its name once assigned; unassigned ones are the
        // pool's (the sweep and adoption leave them alone; removeOrphans clears a dead pool).
        const assigned = (c.Names ?? []).map(parseAssignedWarmName).find((a) => a !== null)
        return assigned ? [{ id: c.Id, ...assigned, running }] : []
      })
    },

    async adopt(record, since, onLineFor) {
      const container = docker.getContainer(record.id)
      let info: Docker.ContainerInspectInfo
      try {
        info = await container.inspect()
      } catch (error) {
        if (httpStatus(error) === 404) return null
        throw error
      }
      if (!info.State.Running) return null
      const nonce = (info.Config.Env ?? [])
        .find((e) => e.startsWith(`${NONCE_ENV}=`))
        ?.slice(NONCE_ENV.length + 1)
      const workspace = info.Config.WorkingDir
      if (!nonce || !workspace) return null
      const onLine = onLineFor(nonce)
      // Attach first, then replay the log after `since` (the newest stored event): a line printed
      // between the two comes twice. Lines stamped at or before `since` are skipped, so one the
      // old runner read but had not stored yet, printed before that event, is lost (docs/runtime.md).
      const attached = await attachStream(container, onLine)
      await replayLogs(container, since, onLine)
      return { sandbox: attachedSandbox(container, attached, workspace), nonce }
    },

    async removeWorkspace(sessionId) {
      await removeWorkspaceVolume(docker, sessionId)
    },

    startWarm: (launch, orphanMs) => startWarmContainer(docker, policy, launch, orphanMs),

    async listWorkspaces() {
      // Not only this runner's: a retry may have run elsewhere. The sweep only removes the
      // workspaces of sessions its own database knows and finished.
      const extra = Object.entries(options.labels ?? {}).map(([k, v]) => `${k}=${v}`)
      const { Volumes } = await docker.listVolumes({
        filters: { label: ["helmr.kind=workspace", ...extra] },
      })
      return (Volumes ?? []).flatMap((v) => {
        const session = v.Labels?.["helmr.session"]
        return session && v.Name === workspaceVolumeName(session) ? [session] : []
      })
    },

    async removeSandboxes(ids) {
      for (const id of ids) {
        await ignoring([404, 409], () => docker.getContainer(id).remove({ force: true, v: true }))
      }
    },

    async removeOrphans(keep) {
      const owner = `helmr.owner=${options.ownerId}`
      const containers = (
        await docker.listContainers({
          all: true,
          filters: { label: [owner, "helmr.kind=sandbox"] },
        })
      ).filter((c) => !keep?.sandboxes.has(c.Id))
      for (const c of containers) {
        await ignoring([404, 409], () => docker.getContainer(c.Id).remove({ force: true, v: true }))
      }
      const poolVolumes = await removeUnboundPoolVolumes(docker, owner)
      return { sandboxes: containers.length, poolVolumes }
    },
  }
}
