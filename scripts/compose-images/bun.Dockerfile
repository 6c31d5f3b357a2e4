# Stand-in for the upstream `oven/bun:<version>-slim` image: Debian plus the bun binary from the npm
# registry (scripts/compose-images.sh puts it in the build context), user `bun` (uid 1000), and
# the host's CA bundle.
FROM helmr-local/debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd -g 1000 bun && useradd -u 1000 -g bun -m -d /home/bun -s /bin/sh bun
COPY bun /usr/local/bin/bun
# This machine's trusted certificates (a TLS-inspecting egress proxy may sign the npm registry's);
# bun reads its own roots plus NODE_EXTRA_CA_CERTS.
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
RUN ln -s /usr/local/bin/bun /usr/local/bin/bunx && bun --version
WORKDIR /home/bun/app
CMD ["bun"]
