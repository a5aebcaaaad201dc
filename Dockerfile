# ts3signer. Built in the full Node image (it has the compilers better-sqlite3 needs for
# --slashing-protection), run in the slim one.
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
# blst, uWebSockets.js and hashtree ship prebuilt binaries; better-sqlite3 and the fast signing
# addon (native/fastsign, from blst's C sources in @chainsafe/blst-swig) and native/connwatch (ends
# connections uWS will never answer, e.g. HTTP/1.0) build here.
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3
COPY native ./native
RUN npx node-gyp rebuild -C native/fastsign --loglevel=warn && npx node-gyp rebuild -C native/connwatch --loglevel=warn
COPY tsconfig.json ./
COPY src ./src
COPY bench ./bench
RUN npx tsc -p . && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Both builds of the signing addon: the ADX one where the CPU running the image has ADX, else the portable one.
COPY --from=build /app/native/fastsign/build/Release/*.node ./native/fastsign/build/Release/
COPY --from=build /app/native/connwatch/build/Release/connwatch.node ./native/connwatch/build/Release/
# A --data-dir volume mounted here is writable by the signer (a new volume copies this owner).
RUN mkdir /data && chown node:node /data
USER node
EXPOSE 9000 9001
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["--host", "0.0.0.0", "--metrics-host", "0.0.0.0", "--interop-keys", "64"]
