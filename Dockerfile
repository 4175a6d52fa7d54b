# sessionhub: one static binary on a distroless base, running as non-root.
#   docker build -t sessionhub --build-arg VERSION=$(git describe --tags --always) .
#   docker run -p 8080:8080 sessionhub                       # embedded store
#   docker run -p 8080:8080 -e SESSIONHUB_REDIS_URL=redis://redis:6379/0 \
#              -e SESSIONHUB_AUTH_SECRET=... sessionhub      # shared Redis

FROM golang:1.26 AS build
WORKDIR /src
# Dependencies first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/sessionhub ./cmd/sessionhub

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/sessionhub /usr/local/bin/sessionhub
USER nonroot:nonroot
ENV SESSIONHUB_ADDR=:8080
EXPOSE 8080
# Probes: GET /healthz (alive) and GET /readyz (Redis and subscriptions work).
# SIGTERM drains: readiness false, WebSockets close with 1001, requests finish.
ENTRYPOINT ["/usr/local/bin/sessionhub"]
CMD ["serve"]
