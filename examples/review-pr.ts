import { cache, image, logger, sandbox, source, task } from "@helmr/sdk"
import { z } from "zod"

const runtime = image("review")
  .from("helmr-local/bun:1.4.5")
  .workdir("/workspace")
  .copy("/workspace/package.json", source.file("package.json"))
  .run(["bun", "install"], {
    cache: [{ mountPath: "/root/.bun/install/cache", cache: cache("review-bun") }],
  })
const sb = sandbox("review")
  .image(runtime)
  .workspace("/workspace")
  .resources({ cpu: 2, memory: "4Gi" })
const reviewPayload = z.object({
  prNumber: z.number().int().positive(),
})
export const reviewPr = task({
  id: "review-pr",
  sandbox: sb,
  maxDuration: 900,
  secrets: [{ name: "OPENAI_API_KEY", env: "OPENAI_API_KEY" }],
  payload: reviewPayload,
  run: async (payload, ctx) => {
    logger.info("reviewing", payload.prNumber)
    return { ok: true }
  },
})
