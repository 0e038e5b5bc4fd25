# Two stages: a static binary built with the Go toolchain, then distroless, non-root.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
    -ldflags "-s -w -X github.com/scim-bridge/scim-bridge/cmd/scim-bridge/app.Version=${VERSION}" \
    -o /out/scim-bridge ./cmd/scim-bridge

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/scim-bridge /scim-bridge
USER nonroot:nonroot
EXPOSE 8080
# Configuration comes from SCIM_BRIDGE_* environment variables (and optionally SCIM_BRIDGE_CONFIG).
# Inside a container the bridge must listen on all interfaces.
ENV SCIM_BRIDGE_LISTEN=0.0.0.0:8080
ENTRYPOINT ["/scim-bridge"]
CMD ["serve"]
