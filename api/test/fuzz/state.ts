import type { Sql } from "@helmr/migrations/db"
import type { Valkey } from "@helmr/migrations/valkey"

/** Row count and content hash of every table, and every Valkey key under the test's prefix. */
export interface StateSnapshot {
  tables: Record<string, string>
  keys: Record<string, string>
}

/** Takes snapshots of one test database and key prefix; the table list is read once. */
export async function stateSnapshotter(sql: Sql, valkey: Valkey, prefix: string) {
  const tables = await sql<{ name: string }[]>`
    select tablename as name from pg_tables where schemaname = 'public' order by tablename`
  const query = tables
    .map(
      ({ name }) =>
        // A sum of row hashes: order-free, so no sort and no big string per request.
        `select '${name}' as name, (select count(*) || ':' || coalesce(sum(hashtextextended(x::text, 0)::numeric), 0) from "${name}" x) as digest`,
    )
    .join(" union all ")
  return async function snapshot(): Promise<StateSnapshot> {
    const rows = await sql.unsafe<{ name: string; digest: string }[]>(query)
    const keys: Record<string, string> = {}
    let cursor = "0"
    do {
      const [next, found] = await valkey.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000)
      cursor = next
      const dumps = await Promise.all(found.map((key) => valkey.dumpBuffer(key)))
      found.forEach((key, i) => {
        const dump = dumps[i]
        keys[key] = dump ? Bun.hash(dump).toString(16) : "(gone)"
      })
    } while (cursor !== "0")
    return { tables: Object.fromEntries(rows.map((r) => [r.name, r.digest])), keys }
  }
}

/** What differs between two snapshots, one line each; empty when nothing does. */
export function diffSnapshots(before: StateSnapshot, after: StateSnapshot): string[] {
  const changes: string[] = []
  for (const name of new Set([...Object.keys(before.tables), ...Object.keys(after.tables)])) {
    if (before.tables[name] !== after.tables[name]) {
      changes.push(`table ${name}: ${before.tables[name]} -> ${after.tables[name]}`)
    }
  }
  for (const key of new Set([...Object.keys(before.keys), ...Object.keys(after.keys)])) {
    if (before.keys[key] !== after.keys[key]) changes.push(`valkey ${key} changed`)
  }
  return changes
}
