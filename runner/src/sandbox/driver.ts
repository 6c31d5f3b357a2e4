import type { RunnerMessage } from "@helmr/sdk/runtime/protocol"
import type { BuildProgress } from "../build/build-image.ts"
import type { SandboxImageRequest } from "../build/image-builder.ts"

/**
 * How a run's task process is started and supervised. `docker` (the default) runs it in a hardened
 * container; `local` runs it as a child process for machines without Docker (no isolation).
 */

/** What the driver needs to start a run's sandbox. */
export interface SandboxLaunch {
  runId: string
  sessionId: string
  attempt: number
  /** From `prepare`. */
  prepared: PreparedCode
  /** Absolute workspace path inside the sandbox (the sandbox spec's `workspace`). */
  workspace: string
  /** The runtime's own variables (secrets travel in the `start` message, never here). */
  env: Record<string, string>
  resources: { cpu: number; memoryBytes: number }
  network: "bridge" | "none"
}

/** A prepared image or code directory; opaque outside its driver. */
export interface PreparedCode {
  ref: string
  /** Path of the bundle's entry module as the runtime sees it. */
  entry: string
}

export type OutputStream = "stdout" | "stderr"

export interface SandboxExit {
  exitCode: number | null
  oomKilled: boolean
}

export interface Sandbox {
  /** Container id or process id. */
  id: string
  /** The workspace path the task sees (`ctx.workspace`). */
  workspace: string
  /** Writes one JSON line to the runtime's stdin. */
  send(message: RunnerMessage): void
  /** Resolves when the process ends. */
  readonly exited: Promise<SandboxExit>
  /** SIGKILL now. */
  kill(): Promise<void>
  /** Removes the container or process leftovers (never the workspace). */
  remove(): Promise<void>
  /**
   * Stops supervising without stopping the sandbox (runner shutdown while the run waits): the
   * runner's next process adopts it. `exited` never resolves after this.
   */
  detach(): void
  /** Resolves when `detach` was called. */
  readonly detached: Promise<void>
}

/** What a pre-started (warm) sandbox is made of: a run's launch without the run. */
export interface WarmLaunch {
  /** The pool it belongs to (`<deployment id>/<sandbox name>`), a label of the container. */
  pool: string
  prepared: PreparedCode
  workspace: string
  resources: { cpu: number; memoryBytes: number }
  network: "bridge" | "none"
}

/**
 * A hardened container started ahead of any run, waiting in the runtime's bootstrap for its
 * `start`. It holds no secret and no run identity; `assign` gives it to exactly one run.
 */
export interface WarmSandbox {
  id: string
  /** Nonce of the frames of the runtime inside it. */
  nonce: string
  /** The image and bundle entry it was started from (its deployment's). */
  prepared: PreparedCode
  /** Resolves if the container ends (it is then of no use). */
  readonly exited: Promise<SandboxExit>
  /** Keeps the waiting runtime from giving up on its runner. */
  ping(): void
  /**
   * Hands the container to one run: its output from now on (and what it printed while waiting)
   * goes to `onLine`, at once. `settled` resolves once the session's workspace is the container's
   * volume and the container is named after the run's attempt (adoption and the sandbox sweep
   * find it by that name); the task may start before, its workspace is already mounted.
   */
  assign(
    run: { runId: string; sessionId: string; attempt: number },
    onLine: (stream: OutputStream, line: string) => void,
  ): { sandbox: Sandbox; settled: Promise<void> }
  /** Removes the unassigned container and its volume. */
  remove(): Promise<void>
}

/** A sandbox left by this runner's previous process. */
export interface SandboxRecord {
  id: string
  runId: string
  sessionId: string
  attempt: number
  running: boolean
}

/** A sandbox re-attached after a runner restart. */
export interface AdoptedSandbox {
  sandbox: Sandbox
  /** The frames' nonce of the runtime inside it. */
  nonce: string
}

export interface SandboxDriver {
  readonly kind: "docker" | "local"
  /**
   * False while the engine is known not to answer (a `prepare` or `start` failed with
   * `EngineUnavailableError` and no ping has been answered since): the runner takes no run then.
   */
  ready(): Promise<boolean>
  /**
   * Builds or reuses what the run's code needs (image, code directory). `prepare` and `start`
   * throw `EngineUnavailableError` (engine-health.ts) when the engine gave no answer at all.
   */
  prepare(request: SandboxImageRequest, progress: BuildProgress): Promise<PreparedCode>
  start(
    launch: SandboxLaunch,
    onLine: (stream: OutputStream, line: string) => void,
  ): Promise<Sandbox>
  /** Deletes a session's workspace. */
  removeWorkspace(sessionId: string): Promise<void>
  /**
   * Session ids of the workspaces this driver can see (Docker: every Helmr workspace volume
   * carrying this runner's extra labels). The workspace sweep decides which may go.
   */
  listWorkspaces(): Promise<string[]>
  /** Sandboxes this runner id left behind (after a restart). */
  listSandboxes(): Promise<SandboxRecord[]>
  /**
   * Re-attaches to a living sandbox of this runner id; what it printed since `since` (while no
   * runner was attached) goes to the handler first. Null when it is gone or cannot be adopted.
   */
  adopt(
    record: SandboxRecord,
    since: Date,
    onLineFor: (nonce: string) => (stream: OutputStream, line: string) => void,
  ): Promise<AdoptedSandbox | null>
  /**
   * Removes every sandbox this runner left behind (after a restart) except the adopted ones
   * (`keep`, by id). Workspaces stay: a run retried after the restart keeps its workspace; the
   * workspace sweep removes finished ones.
   */
  removeOrphans(keep?: {
    sandboxes: Set<string>
  }): Promise<{ sandboxes: number; poolVolumes?: number }>
  /** Removes these sandboxes (by id) if they still exist; the sandbox sweep's tool. */
  removeSandboxes(ids: readonly string[]): Promise<void>
  /**
   * Starts a warm sandbox (Docker only; undefined: this driver keeps none). Its runtime exits by
   * itself when not pinged for `orphanMs` before it is assigned.
   */
  startWarm?(launch: WarmLaunch, orphanMs: number): Promise<WarmSandbox>
}
