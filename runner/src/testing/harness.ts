import { randomBytes } from "node:crypto"
import { rm } from "node:fs/promises"
import { bootstrapProject } from "@helmr/migrations/bootstrap"
import { parseConfig } from "@helmr/migrations/config"
import type { NewRun } from "@helmr/migrations/queries/runs"
import type { RunRow } from "@helmr/migrations/rows"
import { sealSecret } from "@helmr/migrations/secrets"
import {
  createTestDatabase,
  createTestValkey,
  TEST_VALKEY_URL,
  type TestDatabase,
  type TestValkey,
  testEncryptionKey,
} from "@helmr/migrations/testing"
import Docker from "dockerode"
import pino from "pino"
import { composeRunner, type Runner } from "../compose.ts"
import { RunnerConfig } from "../config.ts"
import { type RunLoop, startRunLoop } from "../run/run-loop.ts"
import { removeSandboxNetwork } from "../sandbox/network.ts"
import { insertDeployment, triggerRun } from "./deployments.ts"

/**
 * A runner on its own database, key prefix and Docker names, for one test file. Everything it
 * creates in Docker carries `helmr.test=<label>`, and `stop()` removes exactly those objects.
 */
export interface RunnerHarness {
  db: TestDatabase
  vk: TestValkey
  config: RunnerConfig
  runner: Runner
  loop: RunLoop
  projectId: string
  environmentId: string
  /** API key of the `dev` environment (the harness's environment). */
  apiKey: string
  /** Every environment of the project with its API key (cross-environment checks). */
  environments: { id: string; apiKey: string }[]
  testLabel: string
  deploy(input: {
    bundle: Uint8Array
    manifest: unknown
    files?: Record<string, Uint8Array>
    current?: boolean
  }): Promise<string>
  trigger(input: Omit<NewRun, "environmentId" | "payload"> & { payload?: unknown }): Promise<RunRow>
  setSecret(name: string, value: string): Promise<void>
  /** Stops the loop (not the cleanup): for restart tests. */
  stopLoop(): Promise<void>
  /** A fresh loop over the same runner id, as after a restart. */
  restartLoop(): RunLoop
  stop(): Promise<void>
}

export async function startRunnerHarness(
  label: string,
  env: Record<string, string> = {},
): Promise<RunnerHarness> {
  const rand = randomBytes(4).toString("hex")
  const testLabel = `i6-${rand}`
  const db = await createTestDatabase(label)
  const vk = createTestValkey(label)
  const boot = await bootstrapProject(db.sql, { slug: `i6-${rand}` })
  const environmentId = boot.environments[0]?.id ?? ""
  const config = parseConfig(RunnerConfig, {
    HELMR_DATABASE_URL: db.url,
    HELMR_VALKEY_URL: TEST_VALKEY_URL,
    HELMR_KEY_PREFIX: vk.prefix,
    HELMR_ENCRYPTION_KEY: testEncryptionKey(),
    HELMR_RUNNER_ID: `i6-runner-${rand}`,
    HELMR_RUNNER_LABELS: `helmr.test=${testLabel}`,
    HELMR_SANDBOX_NETWORK: `helmr-i6-${rand}`,
    HELMR_IMAGE_REPO: `helmr-i6-test/${rand}`,
    HELMR_RUNNER_ROOT: `/tmp/helmr-i6-${rand}`,
    HELMR_BUILD_PULL: "never",
    HELMR_RUNNER_LEASE_MS: "3000",
    HELMR_RUNNER_GRACE_MS: "1500",
    HELMR_RUNNER_POLL_MS: "50",
    HELMR_BUILD_POLL_MS: "200",
    HELMR_RUNNER_SWEEP_MS: "1000",
    HELMR_RETRY_BASE_MS: "100",
    HELMR_RETRY_MAX_MS: "500",
    HELMR_RUNNER_CONCURRENCY: "4",
    ...env,
  })
  const logger = pino({ level: process.env.HELMR_TEST_LOG ?? "silent" })
  const runner = await composeRunner(config, { sql: db.sql, valkey: vk.valkey, logger })
  const loopOptions = {
    concurrency: config.HELMR_RUNNER_CONCURRENCY,
    pickup: config.HELMR_RUNNER_PICKUP,
    pollMs: config.HELMR_RUNNER_POLL_MS,
    recheckMs: config.HELMR_RUNNER_RECHECK_MS,
    sweepMs: config.HELMR_RUNNER_SWEEP_MS,
    drainMs: 1_000,
    buildPollMs: config.HELMR_BUILD_POLL_MS,
  }
  let controller = new AbortController()
  let loop = startRunLoop(runner.deps, loopOptions, controller.signal)
  const projectId = boot.projectId
  const harness: RunnerHarness = {
    db,
    vk,
    config,
    runner,
    get loop() {
      return loop
    },
    projectId,
    environmentId,
    apiKey: boot.environments[0]?.apiKey ?? "",
    environments: boot.environments.map((e) => ({ id: e.id, apiKey: e.apiKey ?? "" })),
    testLabel,
    deploy: (input) => insertDeployment(db.sql, { projectId, environmentId, ...input }),
    trigger: (input) =>
      triggerRun(db.sql, vk.valkey, runner.deps.keys, {
        environmentId,
        ...input,
        payload: input.payload ?? null,
      }),
    async setSecret(name, value) {
      const sealed = sealSecret(runner.deps.keyring, environmentId, name, value)
      await db.sql`insert into secrets (environment_id, name, ciphertext, nonce, auth_tag, key_version)
        values (${environmentId}, ${name}, ${sealed.ciphertext}, ${sealed.nonce}, ${sealed.authTag}, ${sealed.keyVersion})
        on conflict (environment_id, name) do update set ciphertext = excluded.ciphertext,
          nonce = excluded.nonce, auth_tag = excluded.auth_tag, key_version = excluded.key_version`
    },
    async stopLoop() {
      controller.abort()
      await loop.stopped
    },
    restartLoop() {
      controller = new AbortController()
      loop = startRunLoop(runner.deps, loopOptions, controller.signal)
      return loop
    },
    async stop() {
      controller.abort()
      await loop.stopped.catch(() => {})
      runner.close()
      if (runner.docker) await removeDockerObjects(runner.docker, testLabel, runner)
      await rm(config.HELMR_RUNNER_ROOT, { recursive: true, force: true })
      await vk.cleanup()
      await db.drop()
    },
  }
  return harness
}

/** Removes the containers, volumes, images and network labelled with this test's label. */
export async function removeDockerObjects(
  docker: Docker,
  testLabel: string,
  runner?: Runner,
): Promise<void> {
  const filters = { label: [`helmr.test=${testLabel}`] }
  for (const c of await docker.listContainers({ all: true, filters })) {
    await docker
      .getContainer(c.Id)
      .remove({ force: true, v: true })
      .catch(() => {})
  }
  const { Volumes } = await docker.listVolumes({ filters })
  for (const v of Volumes ?? [])
    await docker
      .getVolume(v.Name)
      .remove()
      .catch(() => {})
  if (runner?.network) await removeSandboxNetwork(docker, runner.network).catch(() => {})
  const images = await docker.listImages({ filters })
  for (const image of images) {
    for (const tag of image.RepoTags ?? [])
      await docker
        .getImage(tag)
        .remove({ force: true })
        .catch(() => {})
  }
}

export { Docker }
