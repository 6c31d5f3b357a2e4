/** Help texts of the commands beyond deploy/promote/deployments (help.ts). */

const ENVIRONMENT = `Environment:
  HELMR_API_URL    URL of the Helmr API (default: http://localhost:3000)
  HELMR_API_KEY    API key of the environment to act on (required)`

const COMMON = `Common options:
  -e, --env <env>  Refuse to act unless HELMR_API_KEY belongs to this environment
      --json       Print the API's JSON answer on stdout (for scripts)
  -h, --help       Show this help`

export const RUNS_HELP = `helmr runs — list, inspect, follow, trigger, cancel and replay runs

Usage:
  helmr runs list [--status s1,s2] [--task <id>] [--tag t1,t2] [--schedule <id>]
                  [--from <iso>] [--to <iso>] [--limit <n>] [--cursor <c>]
  helmr runs get <run>
  helmr runs logs <run> [--follow]
  helmr runs trigger <task> [--payload <json>|@file|-] [--idempotency-key <k>] [--delay <d>]
                  [--ttl <d>] [--tag t1,t2] [--max-attempts <n>] [--follow]
  helmr runs cancel <run>
  helmr runs replay <run>

  list     Newest first, 20 by default (--limit up to 100); prints the next --cursor on stderr
  get      Status, attempts, times, payload, output and error of one run
  logs     The run's events (logs, transitions, build steps) so far; --follow streams them
           until the run ends, and exits 3 unless it succeeded
  trigger  Starts a run and prints its id; --payload takes JSON, @file.json or - for stdin;
           --delay 10s|5m|1h30m|<ISO time>; --follow then streams its events like logs --follow
  cancel   Cancels a queued or waiting run at once; a running one is stopped by its runner
  replay   Runs the task again with the same payload; prints the new run's id

${COMMON}

${ENVIRONMENT}

Examples:
  helmr runs list --status failed,crashed --task review-pr
  helmr runs trigger review-pr --payload '{"prNumber":42}' --follow
  helmr runs logs run_01jd8x3k2m7q9w4r5t6y8z0a1b --follow
`

export const SCHEDULES_HELP = `helmr schedules — manage the environment's schedules

Usage:
  helmr schedules list [--task <id>] [--kind declarative|imperative] [--limit <n>] [--cursor <c>]
  helmr schedules get <schedule>
  helmr schedules create --key <dedup key> --task <id> --cron '<cron>' [--timezone <IANA>]
                  [--external-id <id>] [--tag t1,t2] [--max-attempts <n>]
  helmr schedules update <schedule> --task <id> --cron '<cron>' [--timezone <IANA>]
                  [--external-id <id>] [--tag t1,t2] [--max-attempts <n>]
  helmr schedules activate <schedule>
  helmr schedules deactivate <schedule>
  helmr schedules delete <schedule>
  helmr schedules slots <schedule> [--limit <n>] [--cursor <c>]

<schedule> is an id (sched_…) or a deduplication key. create upserts by --key (running it
again changes nothing); update replaces the definition (an omitted timezone is UTC). Declarative
schedules (schedules.task in source) are read-only here: change the source and deploy. slots
lists each fire time's outcome (fired, skipped, failed) with its run.

${COMMON}

${ENVIRONMENT}

Examples:
  helmr schedules create --key nightly-main --task nightly-maintenance --cron '0 2 * * *'
  helmr schedules deactivate nightly-main
`

export const SECRETS_HELP = `helmr secrets — set, list and delete the environment's secrets

Usage:
  helmr secrets set <NAME>        the value is read from stdin (hidden when typed), never echoed
  helmr secrets list              names and update times; values are never returned
  helmr secrets delete <NAME>

Tasks receive a secret as an environment variable when they declare it:
  task({ …, secrets: [{ name: "OPENAI_API_KEY", env: "OPENAI_API_KEY" }] })

${COMMON}

${ENVIRONMENT}

Examples:
  printf %s "$OPENAI_API_KEY" | helmr secrets set OPENAI_API_KEY
  helmr secrets set OPENAI_API_KEY < key.txt
`

export const WHOAMI_HELP = `helmr whoami — the project and environment HELMR_API_KEY belongs to

Usage:
  helmr whoami [--json]

${COMMON}

${ENVIRONMENT}
`

export const DEV_HELP = `helmr dev — deploy on every change and stream the logs of the runs

Usage:
  helmr dev [--env dev] [--dir <project>] [--entry <file>] [--allow-missing-secrets] [--json]

Deploys the project, waits for its build (printing the build log) and promotes it, then watches
the project folder (node_modules, .git and dist aside): each change deploys and promotes again. Meanwhile it streams the events of every
run started in the environment, each line prefixed with the task and run. A failed deploy is
reported and the watch goes on. Stop with Ctrl-C. --json prints one JSON object per line
({ type: "deployed" | "deploy_failed" | "event", … }).

Options:
  -e, --env <env>     Environment to deploy to (default: dev); must be HELMR_API_KEY's
  -d, --dir <path>    Task project directory (default: .)
      --entry <file>  Module exporting the tasks
      --allow-missing-secrets
                      Promote even if secrets the tasks declare are not set
      --json          One JSON object per line
  -h, --help          Show this help

${ENVIRONMENT}
`

export const INIT_HELP = `helmr init — create a task project

Usage:
  helmr init [dir] [--name <package name>] [--sdk <version|tarball>] [--base-image <image>] [--json]

Writes a Bun task project into dir (default: the current folder, which must be empty):
package.json (depending on @helmr/sdk and zod), tsconfig.json, .gitignore, README.md,
src/hello.ts (a task with a payload), src/heartbeat.ts (a scheduled task) and src/index.ts
exporting both. It deploys as it is: bun install, then helmr deploy --env dev --promote.

Options:
      --name <name>         Package name (default: from the folder's name)
      --sdk <spec>          @helmr/sdk to depend on: a version range (default: this CLI's), or
                            the path of a packed tarball (bun run sdk:pack in a Helmr checkout)
      --base-image <image>  Image the tasks run in (default: helmr-local/bun:1.4.5)
      --json                Print what was written as JSON
  -h, --help                Show this help
`
