# syntax=docker/dockerfile:1
# Multi-stage build: a static binary (CGO off; the embedded store is pure Go)
# on a minimal non-root base. The build command is the one `make build` and
# .ci/run use.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o bin/axonflow-sync ./cmd/axonflow-sync
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /src/bin/axonflow-sync /usr/local/bin/axonflow-sync
COPY --from=build --chown=65532:65532 /out/data /data
# Container defaults: listen on all interfaces; embedded store under /data
# (mount a volume) unless AXONFLOW_SYNC_REDIS_URL is set.
ENV AXONFLOW_SYNC_LISTEN=0.0.0.0:8080 \
    AXONFLOW_SYNC_ADMIN_LISTEN=0.0.0.0:9090 \
    AXONFLOW_SYNC_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080 9090
USER nonroot:nonroot
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/axonflow-sync", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/axonflow-sync"]
CMD ["serve"]
