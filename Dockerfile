# chargebridge container image (linux/amd64, linux/arm64, linux/arm/v7).
#
#   docker build -t chargebridge .
#   docker run -d --name chargebridge --restart unless-stopped \
#     --net=host --cap-add=NET_ADMIN --cap-add=NET_RAW \
#     -v chargebridge-data:/data chargebridge
#
# Put configuration.yaml (and secrets.yaml) into the /data volume first: with CHARGEBRIDGE_CONFIG
# set, a missing file is an error, not the demo. Set `timezone:` in it: chargebridge applies it to
# the whole process (without it the container's zone is used: UTC, unless you pass -e TZ=…).
# Full guide: docs/install-docker.md.
#
# Bluetooth in a container:
# - noble talks to the adapter through a raw HCI socket (AF_BLUETOOTH), not through BlueZ's D-Bus
#   API, so mounting /run/dbus changes nothing. The kernel creates Bluetooth sockets only in the
#   host's network namespace: without --net=host, noble fails with EAFNOSUPPORT ("no adapter").
# - Sending HCI commands needs CAP_NET_RAW (in Docker's default set, added explicitly anyway);
#   CAP_NET_ADMIN is needed for the exclusive user channel (HCI_CHANNEL_USER=1, run as root then).
# - The raw socket shares the adapter with the host's bluetoothd. If connections are flaky, stop
#   bluetoothd on the host (or give chargebridge its own USB adapter: `ble.hci_device_id` in the
#   configuration, which chargebridge passes to noble as NOBLE_HCI_DEVICE_ID).

ARG NODE_VERSION=20

# ---- build: TypeScript → dist/ (needs the dev dependencies)
FROM node:${NODE_VERSION}-bookworm-slim AS build
# @abandonware/bluetooth-hci-socket (optional, behind @abandonware/noble) always compiles from
# source with node-gyp. @stoprocent/noble, usb and serialport ship prebuilt binaries.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- deps: production dependencies only, native parts built for the target platform
FROM node:${NODE_VERSION}-bookworm-slim AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# Optional dependencies stay: @stoprocent/bluetooth-hci-socket is one of them.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- runtime: no compilers, no npm cache, not root
FROM node:${NODE_VERSION}-bookworm-slim
# File capability so the unprivileged user can open the raw HCI socket. cap_net_raw only: it is in
# Docker's default set, so node still starts when NET_ADMIN is not added (an +ep capability the
# container lacks would make every exec of node fail).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libcap2-bin \
 && setcap cap_net_raw+ep "$(readlink -f /usr/local/bin/node)" \
 && apt-get purge -y libcap2-bin && apt-get autoremove -y \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# package.json: the version shown in --version, bridge/info and Home Assistant.
COPY package.json ./
COPY config/chargebridge.example.yaml ./config/

ENV NODE_ENV=production \
    CHARGEBRIDGE_CONFIG=/data/configuration.yaml

# data_dir defaults to the config file's folder: /data holds config, secrets, session history,
# retained MQTT messages and the Home Assistant discovery registry.
RUN mkdir -p /data && chown node:node /data
VOLUME /data

# 1883: the embedded MQTT broker (with --net=host the port is the host's anyway).
# Off by default, so not exposed here: the OCPP central system (ocpp_server, port 9000) and the HTTP
# endpoint (http, port 8099). With --net=host their ports are the host's; without it, publish them
# with -p (for HTTP also set http.host: 0.0.0.0, its default 127.0.0.1 is the container itself).
EXPOSE 1883

# No HEALTHCHECK here: the health endpoint (GET /healthz) answers only when the configuration has
# `http.enabled: true`, which the image cannot know; a check against a disabled endpoint would mark
# every default container unhealthy. With the endpoint on, add the check to your Compose file or
# run command: see docs/install-docker.md (the image has node, not curl).

USER node
ENTRYPOINT ["node", "/app/dist/main.js"]
CMD ["run"]
