# Deckhand with its web UI built in. `docker build -t deckhand .`; compose.yaml runs it.
# BASE is any Node 24 image with npm. With no registry in reach, pass a BASE whose npm cache holds
# the lockfile's packages and sets npm_config_offline=true (test/e2e/container-image.test.ts does).
ARG BASE=node:24-slim

FROM ${BASE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the `node` dev dependency's install script downloads a Node binary, and the
# base image already is Node 24. vite's native parts come as optional packages, not scripts.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY web ./web
# The UI takes its closed lists from the server's model (the only module of src/ it runs).
COPY src/model ./src/model
RUN npm run build:web

FROM ${BASE} AS runtime
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY src ./src
COPY --from=build /src/web/dist ./web/dist
# A user of its own (uid 10001); it owns the data dir and the compile cache (bin/compile-cache.mjs),
# nothing else. Without groupadd (a busybox base) the entries are written by hand.
RUN if command -v useradd >/dev/null; then \
      groupadd --system --gid 10001 deckhand && \
      useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home --shell /usr/sbin/nologin deckhand; \
    else \
      echo 'deckhand:x:10001:' >>/etc/group && echo 'deckhand:x:10001:10001::/data:/bin/false' >>/etc/passwd; \
    fi; \
    mkdir -p /data node_modules/.cache/deckhand && chown 10001:10001 /data node_modules/.cache/deckhand
ENV NODE_ENV=production \
    DECKHAND_LISTEN=0.0.0.0:8080 \
    DECKHAND_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
USER 10001:10001
# No curl in a slim image: Node's fetch asks /healthz on the port DECKHAND_LISTEN names.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "const p=(process.env.DECKHAND_LISTEN||'').split(':').pop()||'8080';fetch('http://127.0.0.1:'+p+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/app/bin/deckhand"]
CMD ["serve"]
