import type { Duplex } from "node:stream"
import type Docker from "dockerode"
import type { ImageBuilder } from "../build/image-builder.ts"
import { bundleEntryPath } from "../build/image-hash.ts"
import type { OutputStream, Sandbox, SandboxDriver, SandboxExit } from "./driver.ts"
import { createDemuxer, createLineSplitter } from "./lines.ts"
import { type SandboxPolicy, sandboxCreateOptions, workspaceVolumeName } from "./policy.ts"

/**
 * Sandboxes as hardened Docker containers (policy.ts), one per run attempt, with the session's
 * workspace as a named volume. The runtime's stdin, stdout and stderr travel over one hijacked
 * attach connection; if the runner dies the connection closes and the runtime stops by itself.
 */

export interface DockerDriverOptions extends Omit<SandboxPolicy, "labels"> {
  docker: Docker
  builder: ImageBuilder
  /** Identifies this runner's containers and volumes (`helmr.owner`). */
  ownerId: string
  /** More labels for everything created (tests mark their objects). */
  labels?: Record<string, string>
}

function status(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode
}

async function ignoring(codes: number[], action: () => Promise<unknown>): Promise<void> {
  try {
    await action()
  } catch (error) {
    if (!codes.includes(status(error) ?? 0)) throw error
  }
}

export function createDockerDriver(options: DockerDriverOptions): SandboxDriver {
  const { docker } = options
  const labels = { ...options.labels, "helmr.owner": options.ownerId }
  const policy: SandboxPolicy = { ...options, labels }

  return {
    kind: "docker",

    async prepare(request, progress) {
      const image = await options.builder.ensureSandboxImage(request, progress)
      return { ref: image.tag, entry: `/helmr/app/${bundleEntryPath(request.bundle.entry)}` }
    },

    async start(launch, onLine) {
      const volume = workspaceVolumeName(launch.sessionId)
      await docker.createVolume({
        Name: volume,
        Labels: { ...labels, "helmr.kind": "workspace", "helmr.session": launch.sessionId },
      })
      const create = sandboxCreateOptions(launch, policy)
      if (create.name)
        await ignoring([404], () => docker.getContainer(create.name ?? "").remove({ force: true }))
      const container = await docker.createContainer(create)
      let stream: Duplex
      try {
        stream = (await container.attach({
          stream: true,
          stdin: true,
          stdout: true,
          stderr: true,
          hijack: true,
        })) as unknown as Duplex
      } catch (error) {
        await ignoring([404], () => container.remove({ force: true, v: true }))
        throw error
      }
      const splitters = {
        stdout: createLineSplitter((line) => onLine("stdout", line)),
        stderr: createLineSplitter((line) => onLine("stderr", line)),
      }
      const ended = new Promise<void>((resolve) => {
        stream.on("end", resolve)
        stream.on("close", resolve)
        stream.on("error", resolve)
      })
      stream.on(
        "data",
        createDemuxer(
          (chunk) => splitters.stdout.push(chunk),
          (chunk) => splitters.stderr.push(chunk),
        ),
      )
      try {
        await container.start()
      } catch (error) {
        stream.destroy()
        await ignoring([404], () => container.remove({ force: true, v: true }))
        throw error
      }
      const exited = (async (): Promise<SandboxExit> => {
        // Asked after start: `not-running` then means this run's exit, even if it came first.
        const result = (await container.wait()) as { StatusCode?: number }
        // Output may still be in flight when wait returns; give the stream a moment to drain.
        await Promise.race([ended, Bun.sleep(2_000)])
        for (const name of ["stdout", "stderr"] as OutputStream[]) splitters[name].end()
        const info = await container.inspect()
        return {
          exitCode: result.StatusCode ?? info.State.ExitCode ?? null,
          oomKilled: info.State.OOMKilled === true,
        }
      })()
      const sandbox: Sandbox = {
        id: container.id,
        workspace: launch.workspace,
        send(message) {
          if (!stream.destroyed) stream.write(`${JSON.stringify(message)}\n`)
        },
        exited,
        async kill() {
          await ignoring([404, 409], () => container.kill({ signal: "SIGKILL" }))
        },
        async remove() {
          stream.destroy()
          await ignoring([404, 409], () => container.remove({ force: true, v: true }))
        },
      }
      return sandbox
    },

    async removeWorkspace(sessionId) {
      await ignoring([404, 409], () => docker.getVolume(workspaceVolumeName(sessionId)).remove())
    },

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

    async removeOrphans() {
      const owner = `helmr.owner=${options.ownerId}`
      const containers = await docker.listContainers({
        all: true,
        filters: { label: [owner, "helmr.kind=sandbox"] },
      })
      for (const c of containers) {
        await ignoring([404, 409], () => docker.getContainer(c.Id).remove({ force: true, v: true }))
      }
      return { sandboxes: containers.length }
    },
  }
}
