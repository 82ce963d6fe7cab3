# Build: docker build -t accord .
# Run:   docker run -p 8080:8080 -v accord-data:/data accord
# (Written for Docker; it could not be built on the machines this project is developed on,
# which have no container engine.)
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
COPY examples ./examples
RUN cargo build --release --locked --bin accord

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home /data accord && mkdir -p /data && chown accord /data
COPY --from=build /src/target/release/accord /usr/local/bin/accord
USER accord
ENV ACCORD_LISTEN=0.0.0.0:8080 \
    ACCORD_DATA_DIR=/data
EXPOSE 8080
VOLUME ["/data"]
ENTRYPOINT ["/usr/local/bin/accord"]
