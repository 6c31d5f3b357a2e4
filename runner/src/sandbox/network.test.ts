import { describe, expect, test } from "bun:test"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { bridgeNameOf, firewallRules, hostResolvers } from "./network.ts"

describe("sandbox firewall", () => {
  test("drops traffic to the host, lets DNS to the resolvers through, then drops blocked ranges", () => {
    expect(firewallRules("hsb-1", ["10.0.0.0/8"], ["10.255.255.53"])).toEqual([
      ["INPUT", "-i", "hsb-1", "-j", "DROP"],
      [
        "DOCKER-USER",
        "-i",
        "hsb-1",
        "-d",
        "10.255.255.53/32",
        "-p",
        "udp",
        "--dport",
        "53",
        "-j",
        "ACCEPT",
      ],
      [
        "DOCKER-USER",
        "-i",
        "hsb-1",
        "-d",
        "10.255.255.53/32",
        "-p",
        "tcp",
        "--dport",
        "53",
        "-j",
        "ACCEPT",
      ],
      ["DOCKER-USER", "-i", "hsb-1", "-d", "10.0.0.0/8", "-j", "DROP"],
    ])
  })

  test("bridge names fit Linux's 15 characters and differ per network", () => {
    expect(bridgeNameOf("helmr-sandbox").length).toBeLessThanOrEqual(15)
    expect(bridgeNameOf("a")).not.toBe(bridgeNameOf("b"))
  })

  test("reads IPv4 resolvers, skipping loopback ones", async () => {
    const dir = mkdtempSync(join(tmpdir(), "i6-resolv-"))
    const file = join(dir, "resolv.conf")
    writeFileSync(
      file,
      "# x\nnameserver 10.0.0.2\nnameserver 127.0.0.53\nnameserver ::1\nsearch local\n",
    )
    try {
      expect(await hostResolvers(file)).toEqual(["10.0.0.2"])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
