import { randomUUID } from "node:crypto"
import type { Duplex } from "node:stream"
import * as grpc from "@grpc/grpc-js"
import type Docker from "dockerode"

/**
 * A BuildKit client session (`POST /session`, upgraded to h2c, served with gRPC from our side).
 * BuildKit calls back into it for registry credentials, and health-checks it every few seconds:
 * a session that does not answer `grpc.health.v1.Health/Check` is dropped mid-build, so long builds
 * lose it. We answer health checks (SERVING) and give anonymous credentials.
 */
export interface BuildSession {
  id: string
  /** Health checks answered so far (BuildKit's keepalive). */
  readonly healthChecks: number
  close(): void
}

const raw = {
  requestSerialize: (value: Buffer) => value,
  requestDeserialize: (bytes: Buffer) => bytes,
  responseSerialize: (value: Buffer) => value,
  responseDeserialize: (bytes: Buffer) => bytes,
  requestStream: false,
  responseStream: false,
} as const

const HEALTH_CHECK = "/grpc.health.v1.Health/Check"
const CREDENTIALS = "/moby.filesync.v1.Auth/Credentials"
// HealthCheckResponse { status: SERVING (1) }
const SERVING = Buffer.from([0x08, 0x01])

export async function openBuildSession(docker: Docker): Promise<BuildSession> {
  const id = randomUUID()
  const socket = await new Promise<Duplex>((resolve, reject) => {
    docker.modem.dial(
      {
        method: "POST",
        path: "/session",
        hijack: true,
        headers: {
          Upgrade: "h2c",
          "X-Docker-Expose-Session-Uuid": id,
          "X-Docker-Expose-Session-Name": "helmr-runner",
          "X-Docker-Expose-Session-Grpc-Method": [HEALTH_CHECK, CREDENTIALS],
        },
        statusCodes: { 101: true, 200: true, 500: "server error" },
      },
      (error: unknown, sock: unknown) => (error ? reject(error) : resolve(sock as Duplex)),
    )
  })
  let healthChecks = 0
  const server = new grpc.Server()
  server.addService(
    { Check: { path: HEALTH_CHECK, ...raw } },
    {
      Check: (_call: unknown, callback: grpc.sendUnaryData<Buffer>) => {
        healthChecks += 1
        callback(null, SERVING)
      },
    },
  )
  server.addService(
    { Credentials: { path: CREDENTIALS, ...raw } },
    // An empty CredentialsResponse: anonymous pulls.
    {
      Credentials: (_call: unknown, callback: grpc.sendUnaryData<Buffer>) =>
        callback(null, Buffer.alloc(0)),
    },
  )
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure())
  injector.injectConnection(socket)
  let closed = false
  return {
    id,
    get healthChecks() {
      return healthChecks
    },
    close() {
      if (closed) return
      closed = true
      server.forceShutdown()
      socket.destroy()
    },
  }
}
