# Two stages: a static binary built with the Go toolchain (cross-compiled for the target platform
# by `docker buildx build --platform linux/amd64,linux/arm64`), then distroless, non-root.
#   docker build --build-arg VERSION=v1.2.3 -t scim-bridge .
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS=linux
ARG TARGETARCH=amd64
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -buildvcs=false \
    -ldflags "-s -w -X github.com/scim-bridge/scim-bridge/cmd/scim-bridge/app.Version=${VERSION}" \
    -o /out/scim-bridge ./cmd/scim-bridge \
 && mkdir -p /out/state

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="scim-bridge" \
      org.opencontainers.image.description="SCIM 2.0 server that provisions identity-provider users and groups into Salesforce" \
      org.opencontainers.image.source="https://github.com/scim-bridge/scim-bridge" \
      org.opencontainers.image.url="https://github.com/scim-bridge/scim-bridge" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/scim-bridge /scim-bridge
# Where salesforce.token_file lives; owned by nonroot so that a named volume mounted here is
# writable (Docker copies the ownership into a new volume).
COPY --from=build --chown=65532:65532 /out/state /var/lib/scim-bridge
USER 65532:65532
EXPOSE 8080
# Configuration comes from SCIM_BRIDGE_* environment variables (and optionally SCIM_BRIDGE_CONFIG).
# Inside a container the bridge listens on all interfaces and logs JSON even under `docker run -t`.
ENV SCIM_BRIDGE_LISTEN=0.0.0.0:8080 \
    SCIM_BRIDGE_LOG_FORMAT=json
# distroless has no shell or curl: the binary checks its own /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/scim-bridge", "healthcheck"]
ENTRYPOINT ["/scim-bridge"]
CMD ["serve"]
