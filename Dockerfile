# One image for the three services; compose picks the command. Build: docker build -t helmr .
FROM oven/bun:1.4.5-slim AS base
WORKDIR /app
COPY package.json bun.lock bunfig.toml tsconfig.json ./
COPY patches patches
COPY api/package.json api/
COPY dispatcher/package.json dispatcher/
COPY runner/package.json runner/
COPY sdk/package.json sdk/
COPY migrations/package.json migrations/
RUN bun install --frozen-lockfile --production
COPY api api
COPY dispatcher dispatcher
COPY runner runner
COPY sdk sdk
COPY migrations migrations
USER bun

FROM base AS migrate
CMD ["bun", "migrations/src/cli.ts", "migrate"]

FROM base AS api
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s CMD ["bun", "-e", "const r = await fetch('http://127.0.0.1:3000/healthz'); process.exit(r.ok ? 0 : 1)"]
CMD ["bun", "api/main.ts"]

FROM base AS dispatcher
CMD ["bun", "dispatcher/main.ts"]

FROM base AS runner
# The runner talks to the Docker Engine through the mounted socket; it needs the socket's group.
USER root
# iptables, for the sandbox firewall it applies from a container on the host network.
RUN apt-get update && apt-get install -y --no-install-recommends iptables \
 && rm -rf /var/lib/apt/lists/*
CMD ["bun", "runner/main.ts"]
