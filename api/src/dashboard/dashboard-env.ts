import type { AppEnv, Caller } from "../env.ts"

/** The signed-in operator and their session, set by `loadSession`. */
export interface OperatorSession {
  sessionId: string
  operatorId: string
  email: string
  csrfToken: string
}

/** An environment the operator is a member of (what the switcher lists). */
export interface MemberEnvironment {
  projectId: string
  projectSlug: string
  projectName: string
  environmentId: string
  environmentSlug: string
  currentDeploymentId: string | null
}

/** Where a page is: the environment in the URL, as the operations' `Caller`. */
export interface Scope {
  caller: Caller
  environment: MemberEnvironment
  environments: MemberEnvironment[]
  /** `/p/<project>/<env>`: every page link of this environment starts with it. */
  base: string
}

export interface DashEnv {
  Variables: AppEnv["Variables"] & {
    session: OperatorSession | null
    scope: Scope
  }
}
