export { createValkey, type Valkey } from "./client.ts"
export { type ValkeyKeys, valkeyKeys } from "./keys.ts"
export { dequeueRun, enqueueRun, extendRunLease, leaseRuns } from "./run-queue.ts"
