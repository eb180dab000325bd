# chargebridge container image (linux/amd64, linux/arm64, linux/arm/v7).
#
#   docker build -t chargebridge .
#   docker run -d --name chargebridge --restart unless-stopped \
#     --net=host --cap-add=NET_ADMIN --cap-add=NET_RAW \
#     -e TZ=Europe/Berlin -v chargebridge-data:/data chargebridge
#
# Put configuration.yaml (and secrets.yaml) into the /data volume first: with CHARGEBRIDGE_CONFIG
# set, a missing file is an error, not the demo. Full guide: docs/install-docker.md.
#
# Bluetooth in a container:
# - noble talks to the adapter through a raw HCI socket (AF_BLUETOOTH), not through BlueZ's D-Bus
#   API, so mounting /run/dbus changes nothing. The kernel creates Bluetooth sockets only in the
#   host's network namespace: without --net=host, noble fails with EAFNOSUPPORT ("no adapter").
# - Sending HCI commands needs CAP_NET_RAW (in Docker's default set, added explicitly anyway);
#   CAP_NET_ADMIN is needed for the exclusive user channel (HCI_CHANNEL_USER=1, run as root then).
# - The raw socket shares the adapter with the host's bluetoothd. If connections are flaky, stop
#   bluetoothd on the host (or give chargebridge its own USB adapter via NOBLE_HCI_DEVICE_ID).

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
# OCPP and HTTP ports will be added here when those features land.
EXPOSE 1883

# No HEALTHCHECK: there is no health endpoint yet, and a check that only sees the process alive
# adds nothing to Docker's own restart policy.

USER node
ENTRYPOINT ["node", "/app/dist/main.js"]
CMD ["run"]
