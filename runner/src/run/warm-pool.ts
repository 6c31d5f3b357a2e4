import { Manifest } from "@helmr/sdk/contract"
import type { PreparedCode, WarmLaunch, WarmSandbox } from "../sandbox/driver.ts"
import type { RunnerDeps } from "./deps.ts"
import { blobReader } from "./run-plan.ts"
import { allocateWarm } from "./warm-allocation.ts"

/**
 * Warm sandboxes: for every sandbox of a current deployment that asks for them
 * (`sandbox(…).warm(n)`), this runner keeps up to n hardened containers started, within its own
 * cap. Each is taken by exactly one run and never comes back: the pool starts a new one in the
 * background. Pools of deployments no longer current are drained; on shutdown all are removed.
 * A warm container holds no secret and no run identity (docker-warm.ts).
 */

export interface WarmPoolOptions {
  /** Warm sandboxes this runner keeps at most, all pools together (0: none). */
  max: number
  /** How often current deployments are looked at again (a take refills at once). */
  refreshMs: number
}

export interface WarmPool {
  /** A ready warm sandbox of this deployment's sandbox, now only the caller's; or null. */
  take(deploymentId: string, sandbox: string): WarmSandbox | null
  /** Ready warm sandboxes by pool (`<deployment>/<sandbox>`). */
  sizes(): Record<string, number>
  /** Keeps the pools filled until `signal` aborts, then removes every warm sandbox. */
  run(signal: AbortSignal): Promise<void>
}

interface PoolTarget {
  key: string
  deploymentId: string
  sandbox: string
  size: number
  prepare: () => Promise<{ prepared: PreparedCode; launch: Omit<WarmLaunch, "prepared"> }>
}

const poolKey = (deploymentId: string, sandbox: string) => `${deploymentId}/${sandbox}`

export function createWarmPool(deps: RunnerDeps, options: WarmPoolOptions): WarmPool {
  const ready = new Map<string, WarmSandbox[]>()
  const prepared = new Map<string, PreparedCode>()
  // A take while the pools are being filled must not wait for the next refresh.
  let again = false
  let interrupt = () => {}
  const wake = () => {
    again = true
    interrupt()
  }
  const log = deps.logger.child({ component: "warm-pool" })
  // A warm runtime whose runner stopped pinging for this long exits by itself.
  const orphanMs = Math.max(30_000, deps.leaseMs * 2)

  const report = (key: string) => {
    const [deployment = "", sandbox = ""] = key.split("/")
    deps.metrics.warm.set({ deployment, sandbox }, ready.get(key)?.length ?? 0)
  }

  const drop = (key: string, sandbox: WarmSandbox) => {
    const list = ready.get(key)
    const at = list?.indexOf(sandbox) ?? -1
    if (!list || at === -1) return false
    list.splice(at, 1)
    report(key)
    return true
  }

  const targets = async (): Promise<PoolTarget[]> => {
    if (!deps.driver.startWarm || options.max <= 0) return []
    const rows = await deps.sql<
      { id: string; projectId: string; bundleDigest: string; manifest: unknown }[]
    >`
      select d.id, d.project_id, d.bundle_digest, d.manifest from deployments d
      where d.id in (select current_deployment_id from environments)`
    const wanted: Omit<PoolTarget, "size">[] = []
    const asked: { key: string; n: number }[] = []
    for (const row of rows) {
      const parsed = Manifest.safeParse(row.manifest)
      if (!parsed.success) continue
      const manifest = parsed.data
      for (const spec of manifest.sandboxes) {
        const graph = manifest.images.find((i) => i.name === spec.image)
        if (!spec.warm || !graph) continue
        const key = poolKey(row.id, spec.name)
        asked.push({ key, n: spec.warm })
        wanted.push({
          key,
          deploymentId: row.id,
          sandbox: spec.name,
          prepare: async () => {
            const request = {
              projectId: row.projectId,
              graph,
              workspace: spec.workspace,
              bundle: { digest: row.bundleDigest, entry: manifest.entry },
              readBlob: blobReader(deps.sql, row.projectId),
            }
            const code = prepared.get(key) ?? (await deps.driver.prepare(request, () => {}))
            prepared.set(key, code)
            return {
              prepared: code,
              launch: {
                pool: key,
                workspace: spec.workspace,
                resources: {
                  cpu: spec.resources?.cpu ?? deps.defaults.cpu,
                  memoryBytes: spec.resources?.memoryBytes ?? deps.defaults.memoryBytes,
                },
                network: spec.network,
              },
            }
          },
        })
      }
    }
    const sizes = allocateWarm(asked, options.max)
    return wanted.map((w) => ({ ...w, size: sizes.get(w.key) ?? 0 }))
  }

  const fill = async (target: PoolTarget, signal: AbortSignal) => {
    const list = ready.get(target.key) ?? []
    ready.set(target.key, list)
    if (list.length >= target.size) return
    const { prepared: code, launch } = await target.prepare()
    while (list.length < target.size && !signal.aborted) {
      const sandbox = await deps.driver.startWarm?.({ ...launch, prepared: code }, orphanMs)
      if (!sandbox) return
      list.push(sandbox)
      report(target.key)
      const ended = () => {
        // Died while waiting (killed, out of memory): of no use; removed, and replaced.
        if (drop(target.key, sandbox)) {
          log.warn({ pool: target.key, id: sandbox.id }, "a warm sandbox ended before its run")
          void sandbox.remove().catch(() => {})
          wake()
        }
      }
      sandbox.exited.then(ended, ended)
    }
  }

  const reconcile = async (signal: AbortSignal) => {
    const wanted = await targets()
    const keep = new Map(wanted.map((t) => [t.key, t.size]))
    for (const [key, list] of ready) {
      const size = keep.get(key) ?? 0
      const surplus = list.splice(size)
      if (size === 0) {
        ready.delete(key)
        prepared.delete(key)
      }
      report(key)
      for (const sandbox of surplus) await sandbox.remove().catch(() => {})
      if (surplus.length > 0) log.info({ pool: key, removed: surplus.length }, "warm pool drained")
    }
    for (const target of wanted) {
      if (signal.aborted) return
      await fill(target, signal).catch((error: unknown) =>
        log.warn({ err: error, pool: target.key }, "starting warm sandboxes failed"),
      )
    }
  }

  return {
    take(deploymentId, sandbox) {
      const key = poolKey(deploymentId, sandbox)
      const taken = ready.get(key)?.shift() ?? null
      if (taken) {
        report(key)
        wake()
      }
      return taken
    },
    sizes: () => Object.fromEntries([...ready].map(([key, list]) => [key, list.length])),
    async run(signal) {
      const ping = setInterval(
        () => {
          for (const list of ready.values()) for (const sandbox of list) sandbox.ping()
        },
        Math.floor(orphanMs / 4),
      )
      while (!signal.aborted) {
        again = false
        await reconcile(signal).catch((error: unknown) =>
          log.warn({ err: error }, "refreshing the warm pools failed"),
        )
        if (again) continue
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, options.refreshMs)
          function done() {
            clearTimeout(timer)
            signal.removeEventListener("abort", done)
            resolve()
          }
          interrupt = done
          signal.addEventListener("abort", done)
        })
      }
      clearInterval(ping)
      const all = [...ready.entries()]
      ready.clear()
      for (const [key, list] of all) {
        for (const sandbox of list) await sandbox.remove().catch(() => {})
        report(key)
      }
    },
  }
}
