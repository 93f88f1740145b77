# A stand-in for python:3.11-slim-bookworm from Debian's own packages (deploy/standin/build.sh):
# Debian's Python 3.11 with a virtual environment at /usr/local, so `python` and `pip` are
# /usr/local/bin's and pip installs where the official image's does. pip checks servers against
# Debian's CA store, which also holds the machine's own CAs (ca-certificates/, from build.sh).
ARG BASE=spotify-charts-standin/debian:bookworm
FROM ${BASE}
COPY ca-certificates/ /usr/local/share/ca-certificates/
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3.11 python3.11-venv ca-certificates \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
    && python3.11 -m venv /usr/local \
    && printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' > /etc/pip.conf \
    && python --version && pip --version
ENV LANG=C.UTF-8
CMD ["python3"]
