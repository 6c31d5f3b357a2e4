import { cache, image, logger, sandbox, schedules, source } from "@helmr/sdk"

const runtime = image("nightly-maintenance")
  .from("helmr-local/bun:1.4.5")
  .workdir("/workspace")
  .copy("/workspace/package.json", source.file("package.json"))
  .run(["bun", "install"], {
    cache: [{ mountPath: "/root/.bun/install/cache", cache: cache("nightly-bun") }],
  })

export const nightlyMaintenance = schedules.task({
  id: "nightly-maintenance",
  sandbox: sandbox("nightly-maintenance").image(runtime),
  secrets: [{ name: "API_TOKEN", env: "API_TOKEN" }],
  cron: { pattern: "0 2 * * *", timezone: "UTC" },
  run: async (payload) => {
    logger.info("scheduled slot", payload.timestamp.toISOString())
  },
})
