import { streams } from "@helmr/sdk"
import { z } from "zod"

/**
 * The stream benchmark's task: appends `count` small chunks `{ i, t }` (t = append time, epoch
 * ms) to stream `bench`, as fast as it can (`rate` 0) or at `rate` chunks per second (it catches
 * up after a late timer, so the rate holds on a busy machine). Returns how long appending took.
 */
export const produce = {
  id: "produce",
  payload: z.object({ count: z.number().int(), rate: z.number() }),
  run: async (payload: { count: number; rate: number }) => {
    const started = Date.now()
    let i = 0
    while (i < payload.count) {
      const due =
        payload.rate > 0
          ? Math.min(payload.count, Math.floor(((Date.now() - started) * payload.rate) / 1000) + 1)
          : Math.min(payload.count, i + 1_000)
      for (; i < due; i++) streams.append("bench", { i, t: Date.now() })
      // Paced: wait a tick; unpaced: only yield so the batches go out.
      if (payload.rate > 0) await Bun.sleep(5)
      else await new Promise((resolve) => setImmediate(resolve))
    }
    return { appendMs: Date.now() - started }
  },
}
