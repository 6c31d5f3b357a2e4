/** Help texts. Kept together so the CLI reads the same everywhere. */

const ENVIRONMENT = `Environment:
  HELMR_API_URL    URL of the Helmr API (default: http://localhost:3000)
  HELMR_API_KEY    API key of the environment you deploy to (required)`

export const MAIN_HELP = `helmr — deploy and manage Helmr task projects

Usage:
  helmr <command> [options]

Commands:
  init          Create a task project (a task, a scheduled task) that deploys as it is
  deploy        Bundle the task project, upload it as a deployment, optionally promote it
  dev           Deploy on every change of the project and stream the logs of its runs
  promote       Make a deployment current in its environment and reconcile its schedules
  deployments   List the environment's deployments
  runs          list | get | logs [--follow] | trigger | cancel | replay
  schedules     list | get | create | update | activate | deactivate | delete | slots
  secrets       set (value from stdin) | list | delete
  whoami        The project and environment of HELMR_API_KEY

Options:
  -h, --help     Show help (also: helmr <command> --help)
  -v, --version  Show the CLI version
      --json     On every command: print JSON on stdout for scripts

${ENVIRONMENT}

Exit codes:
  0  success
  1  the command failed: the API refused it (its message and fields are printed), the API could
     not be reached, the project did not build
  2  usage error: unknown command or option, missing or malformed argument; nothing was sent
  3  runs logs --follow / runs trigger --follow: the run ended without succeeding

Examples:
  helmr init my-tasks
  helmr deploy --env dev --promote
  helmr runs trigger hello --payload '{"name":"Ada"}' --follow
  helmr promote dep_01jd8x3k2m7q9w4r5t6y8z0a1b --env prod
`

export const DEPLOY_HELP = `helmr deploy — bundle a task project and upload it as a deployment

Usage:
  helmr deploy --env <env> [--promote] [--allow-missing-secrets] [--build-timeout <s>]
               [--dir <project>] [--entry <file>] [--json]

Bundles the project's entry with Bun's bundler (all imports inlined into one module), loads it
to read the tasks it exports, uploads the bundle, the manifest (tasks, payload JSON schemas,
sandboxes, image graphs, schedules) and every file that source.file()/source.dir() refers to.
Deploying the same content again returns the existing deployment. Prints the deployment id.

Then a runner builds the deployment's images; deploy prints the build log as it goes and waits
for the end. A failed build exits 1 naming the failing step, with its output. Secrets its tasks
declare that the environment lacks are named. With --promote, a built deployment is promoted;
promotion refuses missing secrets unless --allow-missing-secrets.

The entry is --entry, else package.json "main", else the first of index.ts, src/index.ts,
index.js, src/index.js in the project directory.

Options:
  -e, --env <env>     Environment to deploy to; must be the environment of HELMR_API_KEY
  -p, --promote       Promote the deployment once built
      --allow-missing-secrets
                      Promote even if secrets its tasks declare are not set
      --build-timeout <s>
                      How long to wait for the build (default: 1800)
  -d, --dir <path>    Task project directory, holding its package.json (default: .)
      --entry <file>  Module exporting the tasks, relative to the project
      --json          Print the API's JSON answer instead of the id
  -h, --help          Show this help

${ENVIRONMENT}

Examples:
  helmr deploy --env dev
  helmr deploy --env prod --promote --dir ./tasks
  id=$(helmr deploy --env staging) && helmr promote "$id" --env staging
`

export const PROMOTE_HELP = `helmr promote — make a deployment current in its environment

Usage:
  helmr promote <deployment> --env <env> [--allow-missing-secrets] [--build-timeout <s>] [--json]

Waits for the deployment's build (printing its log) and refuses a failed one, naming the step.
Refuses a deployment whose tasks declare secrets the environment lacks, unless
--allow-missing-secrets. Then makes the deployment current, so new runs use it, and reconciles
its declarative schedules
(schedules.task) into the environment: new ones are created, changed ones updated, removed ones
deleted. Promoting an older deployment rolls back to it, schedules included. Promoting the
current deployment again changes nothing.

Options:
  -e, --env <env>  Environment of the deployment; must be the environment of HELMR_API_KEY
      --allow-missing-secrets
                   Promote even if secrets its tasks declare are not set
      --build-timeout <s>
                   How long to wait for the build (default: 1800)
      --json       Print the API's JSON answer
  -h, --help       Show this help

${ENVIRONMENT}

Examples:
  helmr promote dep_01jd8x3k2m7q9w4r5t6y8z0a1b --env prod
`

export const DEPLOYMENTS_HELP = `helmr deployments — list an environment's deployments, newest first

Usage:
  helmr deployments --env <env> [--limit <n>] [--json]

Options:
  -e, --env <env>   Environment to list; must be the environment of HELMR_API_KEY
      --limit <n>   How many to show, 1-100 (default: 20)
      --json        Print the API's JSON answer
  -h, --help        Show this help

${ENVIRONMENT}
`
