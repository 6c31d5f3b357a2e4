import { describe, expect, test } from "bun:test"
import {
  assignedWarmName,
  parseAssignedWarmName,
  sandboxCreateOptions,
  warmCreateOptions,
} from "./policy.ts"

const launch = {
  runId: "run_1",
  sessionId: "sess_1",
  attempt: 2,
  prepared: { ref: "helmr/img:abc", entry: "/helmr/app/index.js" },
  workspace: "/workspace",
  env: { OPENAI_API_KEY: "k", HELMR_RUNTIME_NONCE: "n" },
  resources: { cpu: 2, memoryBytes: 4 * 1024 ** 3 },
  network: "bridge" as const,
}
const policy = {
  network: "helmr-sandbox",
  pidsLimit: 256,
  tmpSizeBytes: 512 << 20,
  labels: { "helmr.owner": "r1" },
}

describe("sandboxCreateOptions", () => {
  test("hardens the container and applies the sandbox's limits", () => {
    const o = sandboxCreateOptions(launch, policy)
    expect(o.User).toBe("1000:1000")
    expect(o.Env).toEqual(["OPENAI_API_KEY=k", "HELMR_RUNTIME_NONCE=n"])
    expect(o.Labels).toMatchObject({
      "helmr.owner": "r1",
      "helmr.run": "run_1",
      "helmr.kind": "sandbox",
    })
    const h = o.HostConfig
    expect(h?.Memory).toBe(4 * 1024 ** 3)
    expect(h?.MemorySwap).toBe(4 * 1024 ** 3)
    expect(h?.NanoCpus).toBe(2e9)
    expect(h?.PidsLimit).toBe(256)
    expect(h?.CapDrop).toEqual(["ALL"])
    expect(h?.SecurityOpt).toEqual(["no-new-privileges:true"])
    expect(h?.ReadonlyRootfs).toBe(true)
    expect(h?.Privileged).toBe(false)
    expect(h?.Tmpfs?.["/tmp"]).toBe(`rw,nosuid,nodev,size=${512 << 20}`)
    expect(h?.NetworkMode).toBe("helmr-sandbox")
    expect(h?.Mounts as unknown[]).toEqual([
      {
        Type: "volume",
        Source: "helmr-ws-sess_1",
        Target: "/workspace",
        ReadOnly: false,
        VolumeOptions: {
          NoCopy: false,
          Labels: { "helmr.owner": "r1", "helmr.kind": "workspace", "helmr.session": "sess_1" },
          DriverConfig: { Name: "local", Options: {} },
        },
      },
    ])
    expect(JSON.stringify(o)).not.toContain("docker.sock")
  })

  test("network none when the sandbox asks, /tmp bounded by a quarter of memory", () => {
    const o = sandboxCreateOptions(
      { ...launch, network: "none", resources: { cpu: 0.5, memoryBytes: 128 << 20 } },
      policy,
    )
    expect(o.HostConfig?.NetworkMode).toBe("none")
    expect(o.HostConfig?.NanoCpus).toBe(5e8)
    expect(o.HostConfig?.Tmpfs?.["/tmp"]).toBe(`rw,nosuid,nodev,size=${32 << 20}`)
  })
})

describe("warmCreateOptions", () => {
  const warm = {
    pool: "dep_1/sb",
    prepared: launch.prepared,
    workspace: "/workspace",
    resources: launch.resources,
    network: "bridge" as const,
  }
  const env = { HOME: "/tmp", HELMR_RUNTIME_NONCE: "n" }

  test("the same hardening as a run's container, without run identity or secrets", () => {
    const o = warmCreateOptions(warm, policy, { id: "w1", volume: "helmr-wp-w1", env })
    const run = sandboxCreateOptions(launch, policy)
    expect(o.name).toBe("helmr-warm-w1")
    expect(o.Env).toEqual(["HOME=/tmp", "HELMR_RUNTIME_NONCE=n"])
    expect(o.Labels).toEqual({
      "helmr.owner": "r1",
      "helmr.kind": "sandbox",
      "helmr.warm": "dep_1/sb",
    })
    expect({ ...o.HostConfig, Mounts: [] }).toEqual({ ...run.HostConfig, Mounts: [] })
    expect(o.HostConfig?.Mounts).toEqual([
      { Type: "volume", Source: "helmr-wp-w1", Target: "/workspace", ReadOnly: false },
    ])
    expect(o.User).toBe(run.User)
    expect(o.Entrypoint).toEqual(run.Entrypoint)
  })

  test("an assigned warm container's name gives back its run, attempt and session", () => {
    const name = assignedWarmName("run_a-a1", 3, "sess_x")
    expect(parseAssignedWarmName(`/${name}`)).toEqual({
      runId: "run_a-a1",
      attempt: 3,
      sessionId: "sess_x",
    })
    expect(parseAssignedWarmName("/helmr-warm-w1")).toBeNull()
    expect(parseAssignedWarmName("/helmr-sb-run_1-a2")).toBeNull()
  })
})
