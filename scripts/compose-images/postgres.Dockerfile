# Stand-in for the upstream `postgres:15-bookworm` image, built from Debian's packages on machines
# that cannot pull (scripts/compose-images.sh). Same contract as far as compose.yaml uses it:
# POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB on first start, data in /var/lib/postgresql/data,
# password auth from other hosts, pg_isready on PATH.
FROM helmr-local/debian:bookworm
RUN mkdir -p /etc/postgresql-common \
 && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf \
 && apt-get update && apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/*
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data LANG=C.UTF-8
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /var/lib/postgresql/data
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
