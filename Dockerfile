# syntax=docker/dockerfile:1
#
# Net-Pulse image: docker compose up -d (see docker-compose.yml for networking and settings).
# Lint: npx tsx scripts/lint-dockerfile.ts
#
# Both stages use the same base so better-sqlite3, compiled in the first, matches the second's
# Node ABI and glibc. Pin a patch release (node:20.x.y-bookworm-slim) or a digest for repeatable builds.
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: install everything, compile TypeScript and the dashboard, keep production deps only ----
FROM ${NODE_IMAGE} AS build

# node-gyp compiles better-sqlite3 from source against the image's own Node headers
# (/usr/local/include/node): no prebuilt binary and no header download, so it builds offline too.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local \
    npm_config_build_from_source=better-sqlite3 \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false

WORKDIR /app
COPY package.json package-lock.json ./
COPY frontend/package.json frontend/
RUN npm ci

COPY . .
RUN npm run build
# Same tree, minus devDependencies (TypeScript, Vite, Svelte, test tools); better-sqlite3 stays built.
RUN npm prune --omit=dev
# better-sqlite3 needs only its compiled addon at run time; its SQLite sources and object files are ~25 MB.
RUN cd node_modules/better-sqlite3 \
 && mv build/Release/better_sqlite3.node /tmp/ \
 && rm -rf build deps src \
 && mkdir -p build/Release \
 && mv /tmp/better_sqlite3.node build/Release/ \
 && node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"

# ---- runtime: Node, the built app and its production dependencies; nothing else ----
FROM ${NODE_IMAGE} AS runtime

# A fixed uid/gid so a bind-mounted data folder can be chowned to it: chown 10001:10001 ./data
# No capabilities are needed: /proc/net/dev and /sys/class/net are world-readable.
# npm, npx and corepack are not needed to run and only add attack surface.
RUN groupadd --system --gid 10001 netpulse \
 && useradd --system --uid 10001 --gid netpulse --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin netpulse \
 && mkdir -p /data \
 && chown netpulse:netpulse /data \
 && chmod 0750 /data \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack

# NETPULSE_HOST stays loopback, as outside Docker. With network_mode: host that is the host's own
# loopback (dashboard on this machine only); opening it to the LAN is an explicit choice made in
# docker-compose.yml together with NETPULSE_AUTH_TOKEN. On a bridge network (docker run -p) set
# NETPULSE_HOST=0.0.0.0, or the published port reaches nothing.
ENV NODE_ENV=production \
    NETPULSE_HOST=127.0.0.1 \
    NETPULSE_PORT=8000 \
    NETPULSE_DB_PATH=/data/netpulse.db

WORKDIR /app
# Owned by root and read-only to the netpulse user: the app cannot rewrite itself.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
COPY --from=build /app/frontend/dist ./frontend/dist

USER netpulse
VOLUME ["/data"]
EXPOSE 8000

# No curl in the slim image: node asks /health itself, on the address the server binds to
# (loopback when it binds a wildcard).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "const h=process.env.NETPULSE_HOST||'127.0.0.1';const a=(h==='0.0.0.0'||h==='::')?'127.0.0.1':(h.includes(':')?'['+h+']':h);fetch('http://'+a+':'+(process.env.NETPULSE_PORT||'8000')+'/health',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# bin/netpulse.js runs dist/cli/main.js and sets the exit code. Run with an init (compose has
# init: true; docker run --init) so SIGTERM reaches Node and the database closes cleanly.
CMD ["node", "bin/netpulse.js", "serve"]
