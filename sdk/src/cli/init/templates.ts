/**
 * The files `helmr init` writes: a Bun task project that deploys as it is. Pure: the caller
 * writes them. The base image is the one scripts/base-image.sh builds on every Helmr host (Bun
 * 1.4.5); where a registry is reachable, `oven/bun:1` does as well.
 */
export interface InitOptions {
  /** The package name (also the folder's name by default). */
  name: string
  /** The version range of @helmr/sdk to depend on. */
  sdkRange: string
  baseImage: string
}

export const DEFAULT_BASE_IMAGE = "helmr-local/bun:1.4.5"

export function initFiles(o: InitOptions): Record<string, string> {
  const packageJson = {
    name: o.name,
    private: true,
    type: "module",
    main: "src/index.ts",
    scripts: {
      deploy: "helmr deploy --env dev --promote",
      dev: "helmr dev",
      typecheck: "tsc --noEmit",
    },
    dependencies: { "@helmr/sdk": o.sdkRange, zod: "^4.1.0" },
    devDependencies: { "@types/bun": "^1.2.0", typescript: "^5.9.0" },
  }
  const tsconfig = {
    compilerOptions: {
      target: "ES2022",
      module: "ESNext",
      moduleResolution: "bundler",
      lib: ["ES2023"],
      types: ["bun"],
      strict: true,
      noUncheckedIndexedAccess: true,
      verbatimModuleSyntax: true,
      allowImportingTsExtensions: true,
      noEmit: true,
      skipLibCheck: true,
    },
    include: ["src"],
  }
  return {
    "package.json": `${JSON.stringify(packageJson, null, 2)}\n`,
    "tsconfig.json": `${JSON.stringify(tsconfig, null, 2)}\n`,
    ".gitignore": "node_modules/\n.env\n*.log\n",
    "src/index.ts": INDEX,
    "src/runtime.ts": runtimeModule(o.baseImage),
    "src/hello.ts": HELLO,
    "src/heartbeat.ts": HEARTBEAT,
    "README.md": readme(o.name),
  }
}

const INDEX = `// The tasks Helmr deploys: every task must be exported from this module (package.json "main").
export { hello } from "./hello.ts"
export { heartbeat } from "./heartbeat.ts"
`

function runtimeModule(baseImage: string): string {
  return `import { image, sandbox } from "@helmr/sdk"

// The image every task here runs in. \`helmr deploy\` bundles your code with its dependencies
// into one file, so the image needs nothing but Bun; add .run([...]) steps for system packages.
const runtime = image("${"app"}").from(${JSON.stringify(baseImage)})

export const sb = sandbox("app").image(runtime).resources({ cpu: 1, memory: "512Mi" })
`
}

const HELLO = `import { logger, task } from "@helmr/sdk"
import { z } from "zod"
import { sb } from "./runtime.ts"

// An on-demand task: trigger it with \`helmr runs trigger hello --payload '{"name":"Ada"}'\`
// or from your services with createClient(...).runs.trigger("hello", { name: "Ada" }).
export const hello = task({
  id: "hello",
  sandbox: sb,
  maxDuration: 60,
  payload: z.object({ name: z.string().min(1) }),
  run: async (payload, ctx) => {
    logger.info("hello", payload.name, "from run", ctx.run.id)
    return { greeting: \`Hello, \${payload.name}!\` }
  },
})
`

const HEARTBEAT = `import { logger, schedules } from "@helmr/sdk"
import { sb } from "./runtime.ts"

// A scheduled task: promoted deployments fire it on this cron (UTC unless a timezone is given).
// Every minute makes it easy to watch it work; set your real cadence before going further.
export const heartbeat = schedules.task({
  id: "heartbeat",
  sandbox: sb,
  cron: { pattern: "* * * * *", timezone: "UTC" },
  run: async (payload) => {
    logger.info("heartbeat for slot", payload.timestamp.toISOString())
    return { slot: payload.timestamp.toISOString(), next: payload.upcoming[0]?.toISOString() }
  },
})
`

function readme(name: string): string {
  return `# ${name}

A Helmr task project: \`src/hello.ts\` runs on demand, \`src/heartbeat.ts\` on a cron schedule.
Set \`HELMR_API_URL\` and \`HELMR_API_KEY\` (your project's dev key), then:

\`\`\`sh
bun install
bunx helmr deploy --env dev --promote
bunx helmr runs trigger hello --payload '{"name":"Ada"}' --follow
\`\`\`

While you work, \`bunx helmr dev\` redeploys on every change and streams the logs of the runs;
\`bunx helmr runs list --task heartbeat\` shows the scheduled runs. \`bunx helmr --help\` lists the
rest.
`
}
