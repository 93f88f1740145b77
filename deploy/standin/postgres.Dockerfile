# A stand-in for the official postgres image from Debian's postgresql-15 (deploy/standin/build.sh):
# the same interface as far as compose.yaml uses it (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB,
# /docker-entrypoint-initdb.d, the data in /var/lib/postgresql/data, pg_isready), initialised UTF8.
ARG BASE=spotify-charts-standin/debian:bookworm
FROM ${BASE}
# No cluster of Debian's own (postgresql-common would create 15/main on install).
RUN mkdir -p /etc/postgresql-common \
    && echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf \
    && apt-get update \
    && apt-get install -y --no-install-recommends postgresql-15 \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
    && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
    && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PGDATA=/var/lib/postgresql/data \
    LANG=C.UTF-8
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
