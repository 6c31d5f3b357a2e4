import { image, sandbox, task } from "@helmr/sdk"
import { z } from "zod"

// Deployed by scripts/compose.test.ts: from inside a sandbox started by the containerised runner,
// tries a TCP connection to each target and reports which ones answered.

const probeTarget = z.object({ name: z.string(), host: z.string(), port: z.number().int() })

async function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), 3_000)
    Bun.connect({
      hostname: host,
      port,
      socket: {
        open(socket) {
          clearTimeout(timer)
          socket.end()
          resolve(true)
        },
        data() {},
        error() {
          clearTimeout(timer)
          resolve(false)
        },
        connectError() {
          clearTimeout(timer)
          resolve(false)
        },
      },
    }).catch(() => {
      clearTimeout(timer)
      resolve(false)
    })
  })
}

export const probe = task({
  id: "probe",
  sandbox: sandbox("probe").image(image("probe").from("helmr-local/bun:1.4.5")),
  payload: z.object({ targets: z.array(probeTarget) }),
  run: async ({ targets }) => {
    const results: Record<string, boolean> = {}
    for (const t of targets) results[t.name] = await reachable(t.host, t.port)
    return results
  },
})
