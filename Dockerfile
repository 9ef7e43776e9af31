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
# The runtime's dependencies' sources go into the binary, so that it
# publishes Go bundles without a module cache.
RUN go run ./codegen/build/vendorgen -o codegen/build/deps/vendor.zip \
 && CGO_ENABLED=0 go build -o /out/flowline ./cmd/flowline

FROM golang:1.26-bookworm
# The Go toolchain stays in the image: publishing with target go builds
# bundles with it, offline, from the sources inside the binary.
COPY --from=build /out/flowline /usr/local/bin/flowline
# In a container the API must listen beyond loopback; the port mapping
# decides who reaches it.
ENV FLOWLINE_ADDR=:8080
EXPOSE 8080 8081
ENTRYPOINT ["flowline", "serve"]
