# Stand-in for the upstream `valkey/valkey:8-bookworm` image, built from Debian's redis-server
# (wire-compatible) on machines that cannot pull (scripts/compose-images.sh). `valkey-server` and
# `valkey-cli` are on PATH; data in /data; like upstream, protected mode is off when no config
# file is given (the container's network is the boundary).
FROM helmr-local/debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends redis-server redis-tools \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s /usr/bin/redis-server /usr/local/bin/valkey-server \
 && ln -s /usr/bin/redis-cli /usr/local/bin/valkey-cli \
 && mkdir /data && chown redis:redis /data
COPY valkey-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /data
WORKDIR /data
EXPOSE 6379
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["valkey-server"]
