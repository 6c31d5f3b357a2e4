import type { ContainerCreateOptions } from "dockerode"
import type { SandboxLaunch, WarmLaunch } from "./driver.ts"

/**
 * The hardening policy of a sandbox container, as Engine API create options. Pure, so the test
 * beside it and the `docker inspect` tests check one definition.
 */

export const SANDBOX_USER = "1000:1000"

export interface SandboxPolicy {
  /** Helmr's sandbox bridge network (outbound only). */
  network: string
  pidsLimit: number
  /** Upper bound of the /tmp tmpfs, bytes. */
  tmpSizeBytes: number
  labels: Record<string, string>
}

export function workspaceVolumeName(sessionId: string): string {
  return `helmr-ws-${sessionId}`
}

export function containerName(runId: string, attempt: number): string {
  return `helmr-sb-${runId}-a${attempt}`
}

/** Labels of a session's workspace volume (the workspace sweep finds it by them). */
export function workspaceLabels(policy: SandboxPolicy, sessionId: string): Record<string, string> {
  return { ...policy.labels, "helmr.kind": "workspace", "helmr.session": sessionId }
}

/** Name of a pre-started container before it is assigned. */
export function warmContainerName(id: string): string {
  return `helmr-warm-${id}`
}

/** Name of a warm container once assigned: the attempt's name plus its session. */
export function assignedWarmName(runId: string, attempt: number, sessionId: string): string {
  return `${containerName(runId, attempt)}.${sessionId}`
}

/** The run, attempt and session of an assigned warm container's name; null for others. */
export function parseAssignedWarmName(
  name: string,
): { runId: string; attempt: number; sessionId: string } | null {
  const match = /^\/?helmr-sb-(.+)-a(\d+)\.(.+)$/.exec(name)
  if (!match?.[1] || !match[2] || !match[3]) return null
  return { runId: match[1], attempt: Number(match[2]), sessionId: match[3] }
}

/**
 * A warm container: the same hardening as a run's (one definition), with no run identity, a pool
 * label, and a volume of its own as the workspace (it becomes the session's when assigned).
 */
export function warmCreateOptions(
  warm: WarmLaunch,
  policy: SandboxPolicy,
  ids: { id: string; volume: string; env: Record<string, string> },
): ContainerCreateOptions {
  const base = sandboxCreateOptions(
    { ...warm, runId: "", sessionId: "", attempt: 0, env: ids.env },
    policy,
  )
  return {
    ...base,
    name: warmContainerName(ids.id),
    Labels: { ...policy.labels, "helmr.kind": "sandbox", "helmr.warm": warm.pool },
    HostConfig: {
      ...base.HostConfig,
      Mounts: [{ Type: "volume", Source: ids.volume, Target: warm.workspace, ReadOnly: false }],
    },
  }
}

export function sandboxCreateOptions(
  launch: SandboxLaunch,
  policy: SandboxPolicy,
): ContainerCreateOptions {
  const memory = launch.resources.memoryBytes
  const tmp = Math.min(policy.tmpSizeBytes, Math.max(16 << 20, Math.floor(memory / 4)))
  return {
    name: containerName(launch.runId, launch.attempt),
    Image: launch.prepared.ref,
    Entrypoint: ["bun", "/helmr/runtime.js"],
    Cmd: [],
    User: SANDBOX_USER,
    WorkingDir: launch.workspace,
    Env: Object.entries(launch.env).map(([k, v]) => `${k}=${v}`),
    Hostname: "sandbox",
    Labels: {
      ...policy.labels,
      "helmr.kind": "sandbox",
      "helmr.run": launch.runId,
      "helmr.session": launch.sessionId,
      "helmr.attempt": String(launch.attempt),
    },
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    // Stdin stays open when the attached runner goes away (no StdinOnce): a waiting task survives
    // its runner, and the runner's next process re-attaches to it (docs/runtime.md).
    OpenStdin: true,
    StdinOnce: false,
    Tty: false,
    NetworkDisabled: false,
    HostConfig: {
      NetworkMode: launch.network === "none" ? "none" : policy.network,
      // Memory and memory+swap equal: no swap.
      Memory: memory,
      MemorySwap: memory,
      NanoCpus: Math.round(launch.resources.cpu * 1e9),
      PidsLimit: policy.pidsLimit,
      CapDrop: ["ALL"],
      // The default seccomp profile applies unless overridden; it is never overridden here.
      SecurityOpt: ["no-new-privileges:true"],
      ReadonlyRootfs: true,
      Tmpfs: { "/tmp": `rw,nosuid,nodev,size=${tmp}` },
      Mounts: [
        {
          Type: "volume",
          Source: workspaceVolumeName(launch.sessionId),
          Target: launch.workspace,
          ReadOnly: false,
          // The engine creates the session's volume with these labels at container create (no
          // separate round trip); an existing one (a retry's) is used as it is.
          VolumeOptions: {
            NoCopy: false,
            Labels: workspaceLabels(policy, launch.sessionId),
            DriverConfig: { Name: "local", Options: {} },
          },
        },
      ],
      Privileged: false,
      Init: true,
      IpcMode: "private",
      OomScoreAdj: 500,
      LogConfig: { Type: "json-file", Config: { "max-size": "10m", "max-file": "1" } },
      RestartPolicy: { Name: "no" },
      AutoRemove: false,
    },
  }
}
