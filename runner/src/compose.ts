import { hostname } from "node:os"
import { ConfigError } from "@helmr/migrations/config"
import type { Sql } from "@helmr/migrations/db"
import { checkKeyring, keyringFromConfig } from "@helmr/migrations/keyring"
import { TaskCatalog } from "@helmr/migrations/queries/task-catalog"
import { type Valkey, valkeyKeys } from "@helmr/migrations/valkey"
import Docker from "dockerode"
import type { Logger } from "pino"
import { createImageBuilder } from "./build/image-builder.ts"
import type { ImageGcOptions } from "./build/image-gc.ts"
import { bundleRuntime, type RuntimeBundle } from "./build/runtime-bundle.ts"
import { parseLabels, parseMemory, type RunnerConfig } from "./config.ts"
import { createCancelWatch } from "./run/cancel-watch.ts"
import type { RunnerDeps } from "./run/deps.ts"
import { createPickupSignal } from "./run/pickup-signal.ts"
import { createRunnerMetrics } from "./run/runner-metrics.ts"
import { createWarmPool } from "./run/warm-pool.ts"
import { createDockerDriver } from "./sandbox/docker-driver.ts"
import type { SandboxDriver } from "./sandbox/driver.ts"
import { createLocalDriver } from "./sandbox/local-driver.ts"
import { ensureSandboxNetwork, type SandboxNetwork } from "./sandbox/network.ts"

/**
 * Builds the runner's collaborators from its configuration: the sandbox driver (and for Docker
 * the sandbox network and image builder) and the run lifecycle's dependencies. Shared by main.ts,
 * the tests and the benchmark, so they run the same wiring.
 */
export interface Runner {
  deps: RunnerDeps
  /** Unused image collection (Docker driver only). */
  imageGc: ImageGcOptions | null
  network: SandboxNetwork | null
  docker: Docker | null
  close(): void
}

export async function composeRunner(
  config: RunnerConfig,
  clients: { sql: Sql; valkey: Valkey; logger: Logger },
): Promise<Runner> {
  const keyring = keyringFromConfig(config)
  await checkKeyring(clients.sql, keyring)
  let runtime: Promise<RuntimeBundle> | null = null
  const getRuntime = () => {
    runtime ??= bundleRuntime()
    return runtime
  }
  const labels = parseLabels(config.HELMR_RUNNER_LABELS)
  let driver: SandboxDriver
  let network: SandboxNetwork | null = null
  let docker: Docker | null = null
  let imageGc: ImageGcOptions | null = null
  if (config.HELMR_SANDBOX_DRIVER === "docker") {
    docker = new Docker({ socketPath: config.HELMR_DOCKER_SOCKET })
    network = await ensureSandboxNetwork(docker, {
      name: config.HELMR_SANDBOX_NETWORK,
      labels: { ...labels, "helmr.owner": config.HELMR_RUNNER_ID },
      blockedCidrs: config.HELMR_SANDBOX_BLOCKED_CIDRS.split(",").filter(Boolean),
      firewall:
        config.HELMR_FIREWALL === "docker-host"
          ? {
              mode: "docker-host",
              image: config.HELMR_FIREWALL_IMAGE ?? (await ownImage(docker)),
              labels: { ...labels, "helmr.owner": config.HELMR_RUNNER_ID },
            }
          : { mode: config.HELMR_FIREWALL },
    })
    if (!network.firewall) {
      clients.logger.warn(
        { error: network.firewallError },
        "sandbox firewall rules are NOT in place: sandboxes can reach the Docker host; run the runner as root on the host or add the rules (docs/ARCHITECTURE.md)",
      )
    }
    const builder = createImageBuilder({
      docker,
      repo: config.HELMR_IMAGE_REPO,
      labels: { ...labels, "helmr.owner": config.HELMR_RUNNER_ID },
      pull: config.HELMR_BUILD_PULL,
      runtime: getRuntime,
    })
    imageGc = {
      docker,
      sql: clients.sql,
      repo: config.HELMR_IMAGE_REPO,
      labels: { ...labels, "helmr.owner": config.HELMR_RUNNER_ID },
      keepDeployments: config.HELMR_IMAGE_RETAIN_DEPLOYMENTS,
      buildCacheBytes: parseMemory(config.HELMR_BUILD_CACHE_MAX) ?? 10 * 1024 ** 3,
      runtimeDigest: async () => (await getRuntime()).digest,
      logger: clients.logger,
    }
    driver = createDockerDriver({
      docker,
      builder,
      ownerId: config.HELMR_RUNNER_ID,
      labels,
      network: network.name,
      pidsLimit: config.HELMR_SANDBOX_PIDS_LIMIT,
      tmpSizeBytes: 512 << 20,
    })
  } else {
    driver = createLocalDriver({ root: config.HELMR_RUNNER_ROOT, runtime: getRuntime })
  }
  const keys = valkeyKeys(config.HELMR_KEY_PREFIX)
  const cancelWatch = createCancelWatch(clients.valkey, keys, clients.logger)
  const deps: RunnerDeps = {
    ...clients,
    keys,
    keyring,
    driver,
    cancelWatch,
    runnerId: config.HELMR_RUNNER_ID,
    leaseMs: config.HELMR_RUNNER_LEASE_MS,
    graceMs: config.HELMR_RUNNER_GRACE_MS,
    startTimeoutMs: config.HELMR_RUNNER_START_TIMEOUT_MS,
    retry: { baseMs: config.HELMR_RETRY_BASE_MS, maxMs: config.HELMR_RETRY_MAX_MS },
    gateRecheckMs: config.HELMR_RUNNER_GATE_RECHECK_MS,
    pickup: createPickupSignal(),
    defaults: {
      cpu: config.HELMR_SANDBOX_DEFAULT_CPU,
      memoryBytes: parseMemory(config.HELMR_SANDBOX_DEFAULT_MEMORY) ?? 1024 ** 3,
    },
    keepWorkspaces: config.HELMR_KEEP_WORKSPACES === "true",
    publicApiUrl: config.HELMR_PUBLIC_API_URL,
    parked: new Map(),
    catalog: new TaskCatalog(clients.sql, clients.logger),
    workspaceRetentionMs: config.HELMR_WORKSPACE_RETENTION_MS,
    metrics: createRunnerMetrics(),
    warm: null,
  }
  if (driver.startWarm && config.HELMR_RUNNER_WARM_MAX > 0) {
    deps.warm = createWarmPool(deps, {
      max: config.HELMR_RUNNER_WARM_MAX,
      refreshMs: config.HELMR_RUNNER_WARM_REFRESH_MS,
    })
  }
  return { deps, imageGc, network, docker, close: () => cancelWatch.close() }
}

/** The image of the container this process runs in (Docker names a container's host after its id). */
async function ownImage(docker: Docker): Promise<string> {
  try {
    const self = await docker.getContainer(hostname()).inspect()
    return self.Image
  } catch {
    throw new ConfigError(
      "HELMR_FIREWALL=docker-host: this runner is not in a container of this Docker engine; set HELMR_FIREWALL_IMAGE",
    )
  }
}
