# A Debian service: it builds as root and runs as root.
FROM debian:bookworm-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /srv
COPY server /srv/server

# Port and command.
EXPOSE 8080
CMD ["/srv/server", "--listen", ":8080"]
