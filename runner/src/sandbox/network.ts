import { createHash } from "node:crypto"
import type Docker from "dockerode"

/**
 * Helmr's sandbox network: a Docker bridge of its own (outbound through NAT, no traffic between
 * sandboxes), plus host firewall rules so a sandbox reaches neither the host itself (through the
 * gateway or any host address: Postgres, Valkey, the Docker API, Helmr's own ports) nor private and
 * link-local ranges (databases on the LAN, cloud metadata). The rules need root on the Docker host;
 * without them the runner still starts and says so (health and log).
 */

export const DEFAULT_BLOCKED_CIDRS = [
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "169.254.0.0/16",
  "100.64.0.0/10",
]

export interface SandboxNetwork {
  name: string
  bridge: string
  gateway: string | null
  /** Whether the host firewall rules are in place. */
  firewall: boolean
  firewallError: string | null
}

/** The Linux bridge name of a network (at most 15 characters). */
export function bridgeNameOf(network: string): string {
  return `hsb-${createHash("sha256").update(network).digest("hex").slice(0, 10)}`
}

/**
 * The iptables rules, in order, as argument lists for `-C` / `-I` / `-D`. Docker's embedded DNS
 * forwards queries from the sandbox's own network namespace, so the host's resolvers stay
 * reachable on port 53 even when they sit in a blocked range.
 */
export function firewallRules(
  bridge: string,
  blocked: readonly string[],
  resolvers: readonly string[] = [],
): string[][] {
  const dns = resolvers.flatMap((ip) =>
    ["udp", "tcp"].map((proto) => [
      "DOCKER-USER",
      "-i",
      bridge,
      "-d",
      `${ip}/32`,
      "-p",
      proto,
      "--dport",
      "53",
      "-j",
      "ACCEPT",
    ]),
  )
  return [
    ["INPUT", "-i", bridge, "-j", "DROP"],
    ...dns,
    ...blocked.map((cidr) => ["DOCKER-USER", "-i", bridge, "-d", cidr, "-j", "DROP"]),
  ]
}

/** IPv4 nameservers of the host (`/etc/resolv.conf`), loopback ones left out. */
export async function hostResolvers(path = "/etc/resolv.conf"): Promise<string[]> {
  const text = await Bun.file(path)
    .text()
    .catch(() => "")
  return text
    .split("\n")
    .map((line) => /^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/.exec(line)?.[1])
    .filter((ip): ip is string => ip !== undefined && !ip.startsWith("127."))
}

async function iptables(
  args: string[],
  binary = "iptables",
): Promise<{ ok: boolean; stderr: string }> {
  try {
    const proc = Bun.spawn([binary, "-w", "5", ...args], { stdout: "ignore", stderr: "pipe" })
    const stderr = await new Response(proc.stderr).text()
    return { ok: (await proc.exited) === 0, stderr: stderr.trim() }
  } catch (error) {
    return { ok: false, stderr: error instanceof Error ? error.message : String(error) }
  }
}

/**
 * The iptables flavour whose tables hold Docker's rules (`DOCKER-USER` exists there): a container
 * may ship iptables-nft while the host's Docker uses iptables-legacy, or the other way round.
 */
async function dockerIptables(): Promise<string> {
  for (const binary of ["iptables", "iptables-nft", "iptables-legacy"]) {
    if ((await iptables(["-n", "-L", "DOCKER-USER"], binary)).ok) return binary
  }
  return "iptables"
}

/** Puts the rules in place on this network namespace's host (idempotent); an error or null. */
export async function applyFirewall(
  bridge: string,
  blocked: readonly string[],
): Promise<string | null> {
  const binary = await dockerIptables()
  // Inserted at the top in reverse, so they end up in order ahead of Docker's own rules.
  for (const rule of firewallRules(bridge, blocked, await hostResolvers()).reverse()) {
    const [chain, ...spec] = rule
    if (!chain) continue
    if ((await iptables(["-C", chain, ...spec], binary)).ok) continue
    const inserted = await iptables(["-I", chain, "1", ...spec], binary)
    if (!inserted.ok) return `iptables -I ${rule.join(" ")}: ${inserted.stderr}`
  }
  return null
}

/**
 * Where the rules are applied: `local`, by this process (the runner runs on the Docker host as
 * root); `docker-host`, by a short-lived container of `image` in the host's network namespace with
 * NET_ADMIN (the runner itself runs in a container, as under compose); `off`, nowhere.
 */
export type FirewallMode =
  | { mode: "local" }
  | { mode: "docker-host"; image: string; labels: Record<string, string> }
  | { mode: "off" }

export async function ensureSandboxNetwork(
  docker: Docker,
  options: {
    name: string
    labels: Record<string, string>
    blockedCidrs?: readonly string[]
    firewall?: FirewallMode
  },
): Promise<SandboxNetwork> {
  const bridge = bridgeNameOf(options.name)
  let info: { IPAM?: { Config?: { Gateway?: string }[] } }
  try {
    info = await docker.getNetwork(options.name).inspect()
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw error
    try {
      await docker.createNetwork({
        Name: options.name,
        Driver: "bridge",
        CheckDuplicate: true,
        Labels: { ...options.labels, "helmr.kind": "sandbox-network" },
        Options: {
          "com.docker.network.bridge.name": bridge,
          "com.docker.network.bridge.enable_icc": "false",
          "com.docker.network.bridge.enable_ip_masquerade": "true",
        },
      })
    } catch (createError) {
      // Another runner made it first.
      if ((createError as { statusCode?: number }).statusCode !== 409) throw createError
    }
    info = await docker.getNetwork(options.name).inspect()
  }
  const blocked = options.blockedCidrs ?? DEFAULT_BLOCKED_CIDRS
  const firewall = options.firewall ?? { mode: "local" }
  const firewallError =
    firewall.mode === "local"
      ? await applyFirewall(bridge, blocked)
      : firewall.mode === "docker-host"
        ? await applyFirewallOnHost(docker, firewall.image, firewall.labels, bridge, blocked)
        : "the sandbox firewall is off (HELMR_FIREWALL=off)"
  return {
    name: options.name,
    bridge,
    gateway: info.IPAM?.Config?.[0]?.Gateway ?? null,
    firewall: firewallError === null,
    firewallError,
  }
}

/** Removes the network and its firewall rules (tests; a runner keeps its network). */
export async function removeSandboxNetwork(
  docker: Docker,
  network: SandboxNetwork,
  blockedCidrs: readonly string[] = DEFAULT_BLOCKED_CIDRS,
): Promise<void> {
  for (const [chain, ...spec] of firewallRules(
    network.bridge,
    blockedCidrs,
    await hostResolvers(),
  )) {
    if (chain) while ((await iptables(["-D", chain, ...spec])).ok) {}
  }
  try {
    await docker.getNetwork(network.name).remove()
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw error
  }
}

/**
 * Applies the rules from a container in the host's network namespace (`--network host`,
 * NET_ADMIN and NET_RAW, root), running this same code (`firewall-main.ts`) from the runner's own
 * image. Only the runner, which holds the Docker socket, can start it.
 */
async function applyFirewallOnHost(
  docker: Docker,
  image: string,
  labels: Record<string, string>,
  bridge: string,
  blocked: readonly string[],
): Promise<string | null> {
  const container = await docker.createContainer({
    Image: image,
    User: "0:0",
    Cmd: ["bun", "runner/src/sandbox/firewall-main.ts", bridge, blocked.join(",")],
    Labels: { ...labels, "helmr.kind": "firewall" },
    HostConfig: { NetworkMode: "host", CapDrop: ["ALL"], CapAdd: ["NET_ADMIN", "NET_RAW"] },
  })
  try {
    await container.start()
    const { StatusCode } = (await container.wait()) as { StatusCode: number }
    if (StatusCode === 0) return null
    const logs = await container.logs({ stdout: true, stderr: true })
    return `firewall container exited ${StatusCode}: ${logs
      .toString("utf8")
      .replace(/[^\x20-\x7e\n]/g, "")
      .trim()}`
  } finally {
    await container.remove({ force: true }).catch(() => {})
  }
}
