#!/usr/bin/env bun
/**
 * The `helmr` CLI. Configured by HELMR_API_URL and HELMR_API_KEY; every command that talks to the
 * API first checks that `--env` is the key's environment.
 */
import packageJson from "../../package.json" with { type: "json" }
import { type FlagSpec, parseArgs } from "./args.ts"
import type { CliContext } from "./commands/context.ts"
import { devCommand, whoamiCommand } from "./commands/dev-whoami.ts"
import { initCommand } from "./commands/init.ts"
import { runsCommand } from "./commands/runs.ts"
import { schedulesCommand } from "./commands/schedules.ts"
import { secretsCommand } from "./commands/secrets.ts"
import { readConfig } from "./config.ts"
import { BUILD_TIMEOUT_MS, deploy } from "./deploy.ts"
import { CliError, usageError } from "./errors.ts"
import { DEPLOY_HELP, DEPLOYMENTS_HELP, MAIN_HELP, PROMOTE_HELP } from "./help.ts"
import { type Output, processOutput } from "./output.ts"
import { listDeployments, promote } from "./promote.ts"
import { readProcessStdin } from "./stdin.ts"

/** What a CLI invocation reads besides argv and the environment; tests pass their own. */
export interface CliIo {
  readStdin?: () => Promise<string>
  signal?: AbortSignal
}

const HELP: FlagSpec = { type: "boolean", short: "h" }
const ENV: FlagSpec = { type: "string", short: "e" }
const JSON_FLAG: FlagSpec = { type: "boolean" }

/** Runs one CLI invocation; returns the exit code. */
export async function runCli(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  out: Output,
  io: CliIo = {},
): Promise<number> {
  const ctx: CliContext = {
    env,
    out,
    readStdin: io.readStdin ?? (() => Promise.resolve("")),
    signal: io.signal ?? new AbortController().signal,
  }
  try {
    const [command, ...rest] = argv
    switch (command) {
      case "runs":
        return await runsCommand(rest, ctx)
      case "schedules":
        return await schedulesCommand(rest, ctx)
      case "secrets":
        return await secretsCommand(rest, ctx)
      case "whoami":
        return await whoamiCommand(rest, ctx)
      case "dev":
        return await devCommand(rest, ctx)
      case "init":
        return await initCommand(rest, ctx)
      case undefined:
      case "help":
      case "-h":
      case "--help":
        return printed(out, MAIN_HELP)
      case "-v":
      case "--version":
        out.result(packageJson.version)
        return 0
      case "deploy": {
        const hint = "Run 'helmr deploy --help' for usage."
        const args = parseArgs(
          rest,
          {
            help: HELP,
            env: ENV,
            promote: { type: "boolean", short: "p" },
            "allow-missing-secrets": { type: "boolean" },
            "build-timeout": { type: "string" },
            dir: { type: "string", short: "d" },
            entry: { type: "string" },
            json: JSON_FLAG,
          },
          hint,
        )
        if (args.booleans.help) return printed(out, DEPLOY_HELP)
        if (args.positionals.length > 0) {
          throw usageError(`unexpected argument '${args.positionals[0]}'`, hint)
        }
        await deploy(
          readConfig(env),
          {
            env: requireEnv(args.strings.env, hint),
            dir: args.strings.dir,
            entry: args.strings.entry,
            promote: args.booleans.promote === true,
            json: args.booleans.json === true,
            allowMissingSecrets: args.booleans["allow-missing-secrets"] === true,
            buildTimeoutMs: buildTimeout(args.strings["build-timeout"], hint),
          },
          out,
        )
        return 0
      }
      case "promote": {
        const hint = "Run 'helmr promote --help' for usage."
        const args = parseArgs(
          rest,
          {
            help: HELP,
            env: ENV,
            json: JSON_FLAG,
            "allow-missing-secrets": { type: "boolean" },
            "build-timeout": { type: "string" },
          },
          hint,
        )
        if (args.booleans.help) return printed(out, PROMOTE_HELP)
        const [deployment, extra] = args.positionals
        if (!deployment) throw usageError("missing the deployment id to promote", hint)
        if (extra !== undefined) throw usageError(`unexpected argument '${extra}'`, hint)
        const options = {
          deployment,
          env: requireEnv(args.strings.env, hint),
          json: args.booleans.json === true,
          allowMissingSecrets: args.booleans["allow-missing-secrets"] === true,
          buildTimeoutMs: buildTimeout(args.strings["build-timeout"], hint),
        }
        await promote(readConfig(env), options, out)
        return 0
      }
      case "deployments": {
        const hint = "Run 'helmr deployments --help' for usage."
        const args = parseArgs(
          rest,
          { help: HELP, env: ENV, limit: { type: "string" }, json: JSON_FLAG },
          hint,
        )
        if (args.booleans.help) return printed(out, DEPLOYMENTS_HELP)
        const limit = Number(args.strings.limit ?? 20)
        if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
          throw usageError("--limit must be a whole number from 1 to 100", hint)
        }
        const options = {
          env: requireEnv(args.strings.env, hint),
          limit,
          json: args.booleans.json === true,
        }
        await listDeployments(readConfig(env), options, out)
        return 0
      }
      default:
        throw usageError(`unknown command '${command}'`, "Run 'helmr --help' for the commands.")
    }
  } catch (error) {
    if (error instanceof CliError) {
      out.error(`helmr: error: ${error.message}`)
      for (const line of error.details) out.error(`  ${line}`)
      return error.exitCode
    }
    out.error(
      `helmr: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    )
    return 1
  }
}

function printed(out: Output, text: string): number {
  out.result(text.trimEnd())
  return 0
}

function requireEnv(value: string | undefined, hint: string): string {
  if (value === undefined) throw usageError("missing --env <env> (e.g. --env dev)", hint)
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(value)) {
    throw usageError(
      `--env '${value}' is not an environment name (lowercase letters, digits, '-')`,
      hint,
    )
  }
  return value
}

if (import.meta.main) {
  // Ctrl-C ends long-running commands (dev, logs --follow) cleanly; a second one exits at once.
  const controller = new AbortController()
  process.on("SIGINT", () => {
    if (controller.signal.aborted) process.exit(130)
    controller.abort()
  })
  process.on("SIGTERM", () => controller.abort())
  const io = { readStdin: () => readProcessStdin(), signal: controller.signal }
  process.exit(await runCli(process.argv.slice(2), process.env, processOutput(), io))
}

/** `--build-timeout <seconds>`: how long deploy and promote wait for the build. */
function buildTimeout(value: string | undefined, hint: string): number {
  if (value === undefined) return BUILD_TIMEOUT_MS
  const seconds = Number(value)
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 86_400) {
    throw usageError("--build-timeout must be a whole number of seconds from 1 to 86400", hint)
  }
  return seconds * 1000
}
