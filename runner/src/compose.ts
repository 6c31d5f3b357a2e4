import type { Sql } from "@helmr/migrations/db"
import { createKeyring } from "@helmr/migrations/secrets"
import { type Valkey, valkeyKeys } from "@helmr/migrations/valkey"
import Docker from "dockerode"
import type { Logger } from "pino"
import { createImageBuilder } from "./build/image-builder.ts"
import { bundleRuntime, type RuntimeBundle } from "./build/runtime-bundle.ts"
import { parseLabels, parseMemory, type RunnerConfig } from "./config.ts"
import { createCancelWatch } from "./run/cancel-watch.ts"
import type { RunnerDeps } from "./run/deps.ts"
import { createPickupSignal } from "./run/pickup-signal.ts"
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
  network: SandboxNetwork | null
  docker: Docker | null
  close(): void
}

export async function composeRunner(
  config: RunnerConfig,
  clients: { sql: Sql; valkey: Valkey; logger: Logger },
): Promise<Runner> {
  let runtime: Promise<RuntimeBundle> | null = null
  const getRuntime = () => {
    runtime ??= bundleRuntime()
    return runtime
  }
  const labels = parseLabels(config.HELMR_RUNNER_LABELS)
  let driver: SandboxDriver
  let network: SandboxNetwork | null = null
  let docker: Docker | null = null
  if (config.HELMR_SANDBOX_DRIVER === "docker") {
    docker = new Docker({ socketPath: config.HELMR_DOCKER_SOCKET })
    network = await ensureSandboxNetwork(docker, {
      name: config.HELMR_SANDBOX_NETWORK,
      labels: { ...labels, "helmr.owner": config.HELMR_RUNNER_ID },
      blockedCidrs: config.HELMR_SANDBOX_BLOCKED_CIDRS.split(",").filter(Boolean),
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
    keyring: createKeyring(config.HELMR_ENCRYPTION_KEY),
    driver,
    cancelWatch,
    runnerId: config.HELMR_RUNNER_ID,
    leaseMs: config.HELMR_RUNNER_LEASE_MS,
    graceMs: config.HELMR_RUNNER_GRACE_MS,
    retry: { baseMs: config.HELMR_RETRY_BASE_MS, maxMs: config.HELMR_RETRY_MAX_MS },
    gateRecheckMs: config.HELMR_RUNNER_GATE_RECHECK_MS,
    pickup: createPickupSignal(),
    defaults: {
      cpu: config.HELMR_SANDBOX_DEFAULT_CPU,
      memoryBytes: parseMemory(config.HELMR_SANDBOX_DEFAULT_MEMORY) ?? 1024 ** 3,
    },
    keepWorkspaces: config.HELMR_KEEP_WORKSPACES === "true",
  }
  return { deps, network, docker, close: () => cancelWatch.close() }
}
