import { applyFirewall } from "./network.ts"

// `bun runner/src/sandbox/firewall-main.ts <bridge> <cidr,cidr,…>`: applies the sandbox firewall
// rules in this process's network namespace. The containerised runner starts it in a container of
// its own image on the host's network (see applyFirewallOnHost).
const [bridge, cidrs = ""] = process.argv.slice(2)
if (!bridge || !/^[A-Za-z0-9_.-]{1,15}$/.test(bridge)) {
  process.stderr.write("usage: firewall-main.ts <bridge> <cidr,cidr,…>\n")
  process.exit(2)
}
const error = await applyFirewall(bridge, cidrs.split(",").filter(Boolean))
if (error) {
  process.stderr.write(`${error}\n`)
  process.exit(1)
}
process.stdout.write(`firewall rules for ${bridge} in place\n`)
