import Redis from "ioredis"

export type Valkey = Redis

/** A Valkey (or Redis 7) client that reconnects forever and fails commands fast while down. */
export function createValkey(url: string, options: { name?: string } = {}): Valkey {
  return new Redis(url, {
    connectionName: options.name ?? "helmr",
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
  })
}
