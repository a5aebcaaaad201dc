# ts3signer: build with dev dependencies, run with production ones only.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Native modules (blst, uWebSockets.js, hashtree) ship prebuilt binaries: no install scripts needed.
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
COPY workers ./workers
COPY bench ./bench
RUN npx tsc -p .

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
EXPOSE 9000 9001
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["--host", "0.0.0.0", "--metrics-host", "0.0.0.0", "--interop-keys", "64"]
