import { generateApiKey } from "./api-keys.ts"
import type { Sql } from "./db.ts"
import { newId } from "./ids.ts"

export const DEFAULT_ENVIRONMENTS = ["dev", "staging", "prod"] as const

export interface BootstrapEnvironment {
  id: string
  slug: string
  /** The new key, shown once; null when the environment already had an active key. */
  apiKey: string | null
  keyPrefix: string
}

export interface BootstrapResult {
  projectId: string
  projectSlug: string
  created: boolean
  environments: BootstrapEnvironment[]
}

/**
 * Creates a project with its environments and one API key each. Rerunning it creates nothing new:
 * an environment that already has an active key keeps it (and its key is not shown again).
 */
export async function bootstrapProject(
  sql: Sql,
  input: { slug: string; name?: string; environments?: readonly string[] },
): Promise<BootstrapResult> {
  const environments = input.environments ?? DEFAULT_ENVIRONMENTS
  return sql.begin(async (tx) => {
    // Serialise bootstraps of one project so concurrent runs cannot both issue keys.
    await tx`select pg_advisory_xact_lock(hashtext(${`bootstrap:${input.slug}`}))`
    const inserted = await tx<{ id: string }[]>`
      insert into projects (id, slug, name)
      values (${newId("proj")}, ${input.slug}, ${input.name ?? input.slug})
      on conflict (slug) do nothing
      returning id`
    const [project] = await tx<{ id: string }[]>`select id from projects where slug = ${input.slug}`
    if (!project) throw new Error(`project ${input.slug} vanished during bootstrap`)
    const result: BootstrapResult = {
      projectId: project.id,
      projectSlug: input.slug,
      created: inserted.length > 0,
      environments: [],
    }
    for (const slug of environments) {
      await tx`
        insert into environments (id, project_id, slug)
        values (${newId("env")}, ${project.id}, ${slug})
        on conflict (project_id, slug) do nothing`
      const [env] = await tx<{ id: string }[]>`
        select id from environments where project_id = ${project.id} and slug = ${slug}`
      if (!env) throw new Error(`environment ${slug} vanished during bootstrap`)
      const [existing] = await tx<{ keyPrefix: string }[]>`
        select key_prefix from api_keys
        where environment_id = ${env.id} and revoked_at is null
        order by created_at limit 1`
      if (existing) {
        result.environments.push({ id: env.id, slug, apiKey: null, keyPrefix: existing.keyPrefix })
        continue
      }
      const key = generateApiKey(slug)
      await tx`
        insert into api_keys (id, environment_id, key_prefix, key_hash)
        values (${newId("key")}, ${env.id}, ${key.prefix}, ${key.hash})`
      result.environments.push({ id: env.id, slug, apiKey: key.key, keyPrefix: key.prefix })
    }
    return result
  })
}
