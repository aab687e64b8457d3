# The `latchkey` image: dependencies built in their own layer (cargo-chef), so a change to
# Latchkey's sources rebuilds only Latchkey; protox compiles the protos, so no protoc is needed.
# Runs as an unprivileged user; its healthcheck asks the admin listener's /readyz.
FROM rust:1.95-bookworm AS chef
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /src

# The dependency list alone: this layer changes only when a Cargo.toml or Cargo.lock does.
FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS build
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked -p latchkey --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked -p latchkey

FROM debian:bookworm-slim
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="latchkey" \
      org.opencontainers.image.description="Keeps OAuth 2.0 connections alive: grants, sealed secrets, refresh, an event log" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/latchkey/latchkey"
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/latchkey --create-home latchkey \
    && install -d -o latchkey -g latchkey -m 0700 /var/lib/latchkey/keys
COPY --from=build /src/target/release/latchkey /usr/local/bin/latchkey
USER 10001:10001
WORKDIR /var/lib/latchkey
ENV LATCHKEY_DATA_DIR=/var/lib/latchkey/data
EXPOSE 50051 8080 9090
# The admin listener must be reachable inside the container (LATCHKEY_ADMIN_ADDR=0.0.0.0:9090 in
# the compose and Kubernetes examples; its default is loopback, which is inside it too).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS http://127.0.0.1:9090/readyz || exit 1
ENTRYPOINT ["latchkey"]
CMD ["serve"]
