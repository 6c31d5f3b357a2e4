import { DeletedSecret, Secret, SecretList } from "../contract/secrets.ts"
import type { Transport } from "./transport.ts"

const path = (name: string) => `/secrets/${encodeURIComponent(name)}`

export function secretsNamespace(t: Transport) {
  return {
    /**
     * Sets (or replaces) a secret of the environment. Values are never returned.
     *
     * @example
     * await client.secrets.set("OPENAI_API_KEY", "sk-…")
     */
    async set(name: string, value: string): Promise<Secret> {
      return (await t.json("PUT", path(name), Secret, { body: { value } })).data
    },

    /**
     * The environment's secret names and timestamps.
     *
     * @example
     * const names = (await client.secrets.list()).map((s) => s.name)
     */
    async list(): Promise<Secret[]> {
      return (await t.json("GET", "/secrets", SecretList)).data.data
    },

    /**
     * Deletes a secret.
     *
     * @example
     * await client.secrets.del("OPENAI_API_KEY")
     */
    async del(name: string): Promise<DeletedSecret> {
      return (await t.json("DELETE", path(name), DeletedSecret)).data
    },
  }
}

export type SecretsNamespace = ReturnType<typeof secretsNamespace>
