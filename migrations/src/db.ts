import postgres from "postgres"

export type Sql = postgres.Sql
export type TransactionSql = postgres.TransactionSql

export interface DbOptions {
  /** Pool size; the services keep it small, tests smaller. */
  max?: number
  /** Identifies the service in pg_stat_activity. */
  applicationName?: string
}

/**
 * Creates a postgres.js client whose column names are camelCased on the way out and snake_cased
 * on the way in. Only column names are transformed: the values of json/jsonb columns (user
 * payloads, outputs, metadata) keep their keys exactly as written.
 */
export function createDb(url: string, options: DbOptions = {}): Sql {
  return postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? "helmr" },
    transform: {
      undefined: null,
      column: { from: postgres.toCamel, to: postgres.fromCamel },
    },
  })
}
