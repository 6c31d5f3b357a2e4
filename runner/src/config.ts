import { hostname } from "node:os"
import { configFields, keyringFields } from "@helmr/migrations/config"
import { z } from "zod"

const UNITS: Record<string, number> = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }

/** `512Mi`, `4Gi` → bytes; null when it is not such a size. */
export function parseMemory(value: string): number | null {
  const match = /^(\d+)(Ki|Mi|Gi)$/.exec(value)
  if (!match?.[1] || !match[2]) return null
  return Number(match[1]) * (UNITS[match[2]] ?? 0)
}

const milliseconds = (fallback: number) => z.coerce.number().int().min(10).default(fallback)

export const RunnerConfig = z.object({
  HELMR_DATABASE_URL: configFields.databaseUrl,
  HELMR_VALKEY_URL: configFields.valkeyUrl,
  HELMR_KEY_PREFIX: configFields.keyPrefix.default("helmr"),
  HELMR_LOG_LEVEL: configFields.logLevel.default("info"),
  /** Port of the health endpoint. */
  HELMR_RUNNER_PORT: configFields.port.default(3002),
  ...keyringFields,
  HELMR_DOCKER_SOCKET: z.string().min(1).default("/var/run/docker.sock"),
  HELMR_MIGRATE_ON_START: z.enum(["true", "false"]).default("true"),
  /** Stable across restarts: a restarted runner recovers the runs and containers of its id. */
  HELMR_RUNNER_ID: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, "must be letters, digits, '.', '_' or '-'")
    .default(
      hostname()
        .replace(/[^A-Za-z0-9._-]/g, "-")
        .slice(0, 63) || "runner",
    ),
  HELMR_RUNNER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(4),
  /**
   * Warm sandboxes this runner keeps at most, all sandboxes together (`sandbox(…).warm(n)` asks;
   * shared round the sandboxes when they ask for more). 0 keeps none. Docker driver only.
   */
  HELMR_RUNNER_WARM_MAX: z.coerce.number().int().min(0).max(256).default(8),
  /** How often the warm pools are compared with the current deployments. */
  HELMR_RUNNER_WARM_REFRESH_MS: milliseconds(2_000),
  HELMR_SANDBOX_DRIVER: z.enum(["docker", "local"]).default("docker"),
  HELMR_SANDBOX_NETWORK: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/)
    .default("helmr-sandbox"),
  /** CIDRs sandboxes may not reach (comma-separated; empty: none besides the host itself). */
  HELMR_SANDBOX_BLOCKED_CIDRS: z
    .string()
    .default("10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,169.254.0.0/16,100.64.0.0/10"),
  HELMR_SANDBOX_PIDS_LIMIT: z.coerce.number().int().min(16).default(512),
  HELMR_SANDBOX_DEFAULT_CPU: z.coerce.number().positive().default(1),
  HELMR_SANDBOX_DEFAULT_MEMORY: z
    .string()
    .refine((v) => parseMemory(v) !== null, "must be a size like 512Mi or 1Gi")
    .default("1Gi"),
  /** Repository of the images the runner builds. */
  HELMR_IMAGE_REPO: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._/-]{0,100}$/)
    .default("helmr/img"),
  /** `never`: base images must exist on the machine (no registry reachable). */
  HELMR_BUILD_PULL: z.enum(["never", "missing"]).default("missing"),
  HELMR_RUNNER_LEASE_MS: milliseconds(30_000),
  /** How often an idle runner looks for a deployment to build (deploy-time builds). */
  HELMR_BUILD_POLL_MS: milliseconds(1_000),
  HELMR_RUNNER_GRACE_MS: milliseconds(10_000),
  /**
   * From the start message to the runtime's `started`: a sandbox silent that long is killed and
   * its attempt counts as lost (retried if attempts are left).
   */
  HELMR_RUNNER_START_TIMEOUT_MS: milliseconds(30_000),
  /**
   * `push`: an idle runner waits on the run queue's wake-up channel (no polling); `poll`: it looks
   * at the queue every HELMR_RUNNER_POLL_MS (the old behaviour, a benchmark baseline).
   */
  HELMR_RUNNER_PICKUP: z.enum(["push", "poll"]).default("push"),
  HELMR_RUNNER_POLL_MS: milliseconds(50),
  /** Push pickup: the longest idle wait without a wake-up (a safety net for lost messages). */
  HELMR_RUNNER_RECHECK_MS: milliseconds(5_000),
  HELMR_RUNNER_DRAIN_MS: milliseconds(30_000),
  HELMR_RUNNER_SWEEP_MS: milliseconds(15_000),
  /** A run parked behind a full concurrency limit is rechecked this often even if never woken. */
  HELMR_RUNNER_GATE_RECHECK_MS: milliseconds(10_000),
  HELMR_RETRY_BASE_MS: milliseconds(2_000),
  HELMR_RETRY_MAX_MS: milliseconds(300_000),
  /** Folder of the local driver's code and workspaces. */
  HELMR_RUNNER_ROOT: z.string().min(1).default(".helmr/runner"),
  HELMR_KEEP_WORKSPACES: z.enum(["true", "false"]).default("false"),
  /** Keep a finished session's workspace this long (ms) before removing it; 0 removes it at once. */
  HELMR_WORKSPACE_RETENTION_MS: z.coerce.number().int().min(0).default(0),
  /**
   * Who applies the sandbox firewall: `local` (this process, on the Docker host, as root),
   * `docker-host` (a short-lived container of the runner's own image on the host network, for a
   * runner that runs in a container, as under compose) or `off`.
   */
  HELMR_FIREWALL: z.enum(["local", "docker-host", "off"]).default("local"),
  /** The image `docker-host` runs; default: the image of the runner's own container. */
  HELMR_FIREWALL_IMAGE: z.string().min(1).optional(),
  /** Images of this many newest deployments per environment stay, besides the current ones. */
  HELMR_IMAGE_RETAIN_DEPLOYMENTS: z.coerce.number().int().min(0).max(1000).default(3),
  /** BuildKit's cache is trimmed to this size at each collection. */
  HELMR_BUILD_CACHE_MAX: z
    .string()
    .refine((v) => parseMemory(v) !== null, "must be a size like 512Mi or 10Gi")
    .default("10Gi"),
  /** How often unused images are collected; 0 turns collection off. */
  HELMR_IMAGE_GC_INTERVAL_MS: z.coerce.number().int().min(0).default(600_000),
  /** Public URL of the API, for the completion `url` of tokens tasks create (else a path). */
  HELMR_PUBLIC_API_URL: z.url().or(z.literal("")).default(""),
  /** Extra labels on everything the runner creates in Docker: `key=value,key=value`. */
  HELMR_RUNNER_LABELS: z
    .string()
    .regex(/^([A-Za-z0-9._-]+=[^,]*)?(,[A-Za-z0-9._-]+=[^,]*)*$/, "must be key=value,key=value")
    .default(""),
})
export type RunnerConfig = z.infer<typeof RunnerConfig>

export function parseLabels(value: string): Record<string, string> {
  const labels: Record<string, string> = {}
  for (const pair of value.split(",").filter(Boolean)) {
    const at = pair.indexOf("=")
    labels[pair.slice(0, at)] = pair.slice(at + 1)
  }
  return labels
}
