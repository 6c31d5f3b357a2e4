import { spawn } from "node:child_process"
import { createHash } from "node:crypto"
import { mkdir, readdir, rm, writeFile } from "node:fs/promises"
import { dirname, join, resolve } from "node:path"
import type { RuntimeBundle } from "../build/runtime-bundle.ts"
import type { Sandbox, SandboxDriver, SandboxExit } from "./driver.ts"
import { createLineSplitter } from "./lines.ts"

/**
 * Development driver for machines without Docker: the runtime runs as a child process of the
 * runner, in its own process group, with the session's workspace as a directory under `root`.
 * There is NO isolation and no resource limit: the image graph is not built, the task uses the
 * machine's own tools. Never use it for code you do not trust.
 */

export interface LocalDriverOptions {
  /** Folder for code and workspaces, e.g. `.helmr/runner`. */
  root: string
  runtime: () => Promise<RuntimeBundle>
  /** `bun` executable (default: the one running the runner). */
  bun?: string
}

export function createLocalDriver(options: LocalDriverOptions): SandboxDriver {
  const root = resolve(options.root)
  const workspaceOf = (sessionId: string) => join(root, "workspaces", sessionId)

  return {
    kind: "local",

    // A child process needs no engine.
    ready: async () => true,

    async prepare(request) {
      const runtime = await options.runtime()
      const entry = request.bundle.entry.replace(/^\.?\/+/, "")
      const key = createHash("sha256")
        .update(`${runtime.digest}\0${request.bundle.digest}\0${entry}`)
        .digest("hex")
        .slice(0, 32)
      const dir = join(root, "code", key)
      const entryPath = join(dir, "app", entry)
      if (!entryPath.startsWith(`${dir}/`)) throw new Error(`bad bundle entry ${entry}`)
      await mkdir(dirname(entryPath), { recursive: true })
      await writeFile(join(dir, "runtime.js"), runtime.code)
      await writeFile(entryPath, await request.readBlob(request.bundle.digest))
      return { ref: dir, entry: entryPath }
    },

    async start(launch, onLine) {
      const workspace = workspaceOf(launch.sessionId)
      await mkdir(workspace, { recursive: true })
      const child = spawn(
        options.bun ?? process.execPath,
        [join(launch.prepared.ref, "runtime.js")],
        {
          cwd: workspace,
          env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: workspace, ...launch.env },
          stdio: ["pipe", "pipe", "pipe"],
          detached: true,
        },
      )
      const out = createLineSplitter((line) => onLine("stdout", line))
      const err = createLineSplitter((line) => onLine("stderr", line))
      child.stdout.on("data", (chunk: Buffer) => out.push(chunk))
      child.stderr.on("data", (chunk: Buffer) => err.push(chunk))
      child.stdin.on("error", () => {})
      const exited = new Promise<SandboxExit>((resolveExit, reject) => {
        child.on("error", reject)
        child.on("close", (code) => {
          out.end()
          err.end()
          resolveExit({ exitCode: code, oomKilled: false })
        })
      })
      await new Promise<void>((ok, fail) => {
        child.once("spawn", ok)
        child.once("error", fail)
      })
      const killGroup = () => {
        try {
          if (child.pid) process.kill(-child.pid, "SIGKILL")
        } catch {
          // Already gone.
        }
      }
      let detach = () => {}
      const detached = new Promise<void>((resolve) => {
        detach = resolve
      })
      const sandbox: Sandbox = {
        id: String(child.pid),
        workspace,
        send(message) {
          if (child.stdin.writable) child.stdin.write(`${JSON.stringify(message)}\n`)
        },
        exited,
        async kill() {
          killGroup()
        },
        async remove() {
          killGroup()
          child.stdin.destroy()
        },
        // A child process cannot outlive its supervision here: detaching ends it.
        detach() {
          killGroup()
          detach()
        },
        detached,
      }
      return sandbox
    },

    async removeWorkspace(sessionId) {
      await rm(workspaceOf(sessionId), { recursive: true, force: true })
    },

    async listWorkspaces() {
      return readdir(join(root, "workspaces")).catch(() => [] as string[])
    },

    // Processes die with their runner: there is nothing to adopt.
    async listSandboxes() {
      return []
    },

    async adopt() {
      return null
    },

    async removeSandboxes() {
      // Its sandboxes are child processes of this runner: each ends with its attempt.
    },

    async removeOrphans() {
      // Child processes die with the runner (stdin closes); nothing else is left behind.
      return { sandboxes: 0 }
    },
  }
}
