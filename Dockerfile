# The tfpilot reference server (examples/connect-server) as a container
# image: a static Go build on an empty base, run as a non-root user.
#
#   docker build -t tfpilot/server .                       # the server
#   docker build --target fake-github -t tfpilot/fake-github .
#
# The server image also holds tfpilot-migrate (the S3 → PostgreSQL
# migration): docker run --entrypoint /usr/local/bin/tfpilot-migrate ...
# compose.yaml runs both images as a local cluster; the README's
# "Container image and local cluster" section says how.
#
# Build arguments:
#   GO_IMAGE   the build stage's base: any image with Go 1.26 on PATH and
#              a shell (default golang:1.26-bookworm). Modules come from
#              GOPROXY, so the build needs network access to it.
#   GOPROXY    passed to the go command (default the public proxy).
#
# The final stages are FROM scratch: no shell, no package manager, no CA
# bundle (the binaries carry Mozilla's roots as a fallback, see
# examples/connect-server/roots.go), user 65532 (no passwd entry needed).
ARG GO_IMAGE=golang:1.26-bookworm

FROM ${GO_IMAGE} AS build
ARG GOPROXY=https://proxy.golang.org,direct
ENV CGO_ENABLED=0 GOPROXY=${GOPROXY} GOFLAGS=-buildvcs=false GOTOOLCHAIN=local
WORKDIR /src
COPY . .
# One go build for the three commands, so shared packages compile once.
RUN mkdir /out && go build -trimpath -ldflags='-s -w' -o /out/ \
	./examples/connect-server ./examples/fake-github ./examples/tfpilot-migrate && \
	mv /out/connect-server /out/tfpilot-server

# The simulated GitHub (examples/fake-github), for a local cluster.
FROM scratch AS fake-github
COPY --from=build /out/fake-github /usr/local/bin/fake-github
ENV FAKE_GITHUB_LISTEN=:8090
USER 65532:65532
EXPOSE 8090
ENTRYPOINT ["/usr/local/bin/fake-github"]

# The reference server: the default target. Every flag has an environment
# variable (TFPILOT_*); see examples/connect-server/README.md.
FROM scratch AS server
COPY --from=build /out/tfpilot-server /out/tfpilot-migrate /usr/local/bin/
ENV TFPILOT_LISTEN=:8080
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/tfpilot-server"]
