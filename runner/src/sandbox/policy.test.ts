import { describe, expect, test } from "bun:test"
import { sandboxCreateOptions } from "./policy.ts"

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
    expect(h?.Mounts).toEqual([
      { Type: "volume", Source: "helmr-ws-sess_1", Target: "/workspace", ReadOnly: false },
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
