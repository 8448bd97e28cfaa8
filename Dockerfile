# One image for every Ambit process: the controller, the node agent, waypoint proxies and
# the chart's uninstall hook. The entrypoint takes the process's name (bin/ambit-component).
#
#   docker build -t ghcr.io/ambit-mesh/ambit:0.1.0 .
#
# Not built in CI yet: the build machine has no container runtime (docs/install.md).

# --- build: TypeScript and the eBPF objects ---------------------------------------------
FROM node:20-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends clang make libbpf-dev linux-libc-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY lib lib
COPY controller controller
COPY node-agent node-agent
COPY waypoint waypoint
COPY lab lab
COPY cli cli
COPY test test
COPY bench bench
COPY bpf bpf
# bpf/Makefile targets x86-64 (-D__TARGET_ARCH_x86); an arm64 image needs that made a variable.
RUN npx tsc -p tsconfig.json && make -s -C bpf
# Runtime dependencies only, in a tree of their own.
RUN mkdir /out && cp package.json package-lock.json /out/ && cd /out && npm ci --omit=dev

# --- runtime ----------------------------------------------------------------------------
FROM node:20-bookworm-slim
# libbpf1: loaded by the node agent through koffi. nftables and iproute2: its inbound
# capture table and policy route. None of them is used by the controller or waypoints,
# which run unprivileged.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libbpf1 nftables iproute2 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/ambit
COPY --from=build /out/node_modules node_modules
COPY --from=build /out/package.json package.json
COPY --from=build /src/dist dist
COPY --from=build /src/bpf/build bpf/build
# The gRPC service definitions are read at run time (lib/xds/proto.ts).
COPY lib/xds/proto lib/xds/proto
# The dashboard's pages (plain ES modules and CSS) are served from the source tree (controller/dashboard/server.ts).
COPY controller/dashboard/ui controller/dashboard/ui
# The CRD schemas, with which the controller validates Ambit's custom resources (lib/crds/schema.ts
# reads them from the package root, as in the source tree).
COPY charts/ambit/crds charts/ambit/crds
COPY bin/ambit-component bin/ambit-component
ENV NODE_ENV=production NODE_OPTIONS=--enable-source-maps
# Non-root by default (the controller, waypoints, the hook); the node-agent DaemonSet runs
# it as root with named capabilities.
USER 65532:65532
ENTRYPOINT ["node", "/opt/ambit/bin/ambit-component"]
