# Builds the flowline binary with the designer embedded.
FROM node:20-bookworm AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=web /src/web/dist ./web/dist
RUN CGO_ENABLED=0 go build -o /out/flowline ./cmd/flowline

FROM golang:1.26-bookworm
# The Go toolchain and module cache stay in the image: publishing with
# target go builds bundles offline against them.
COPY --from=build /out/flowline /usr/local/bin/flowline
COPY --from=build /root/go/pkg/mod /root/go/pkg/mod
EXPOSE 8080 8081
ENTRYPOINT ["flowline", "serve"]
