# Builds a static stamp binary (pure Go: SQLite is modernc.org/sqlite, no cgo)
# into a small image. Mount a volume at /data and a config at /etc/stamp/stamp.yaml.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/stamp .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/stamp /usr/local/bin/stamp
WORKDIR /data
VOLUME ["/data"]
EXPOSE 25 465 587 143 993 110 995 80 443
ENTRYPOINT ["/usr/local/bin/stamp"]
CMD ["serve", "--config", "/etc/stamp/stamp.yaml"]
