import type { DeletedSecret, Secret } from "../contract/secrets.ts"
import { DeletedSecretAnswer, SecretAnswer, SecretListAnswer } from "./answers.ts"
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
      return (await t.json("PUT", path(name), SecretAnswer, { body: { value } })).data
    },

    /**
     * The environment's secret names and timestamps.
     *
     * @example
     * const names = (await client.secrets.list()).map((s) => s.name)
     */
    async list(): Promise<Secret[]> {
      return (await t.json("GET", "/secrets", SecretListAnswer)).data.data
    },

    /**
     * Deletes a secret.
     *
     * @example
     * await client.secrets.del("OPENAI_API_KEY")
     */
    async del(name: string): Promise<DeletedSecret> {
      return (await t.json("DELETE", path(name), DeletedSecretAnswer)).data
    },
  }
}

export type SecretsNamespace = ReturnType<typeof secretsNamespace>
