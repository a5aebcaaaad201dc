/** The key sources given on the command line (read at start and on every reload). */
export type KeySources = {
  /** `N` or `START:COUNT`. */
  interopKeys?: string;
  keystoresPath?: string;
  keystoresPasswordsPath?: string;
  keystoresPasswordFile?: string;
  mnemonicFile?: string;
  mnemonicStart?: number;
  mnemonicCount?: number;
  /** Restart caches (derived keys, keystores); none without it. */
  cacheDir?: string;
  /** Keep the keystore cache off even with a cache dir. */
  noKeystoreCache?: boolean;
};

/** Everything a signer is started with; the CLI builds it from flags, defaults included (src/config/args.ts). */
export type SignerConfig = KeySources & {
  host: string;
  port: number;
  metricsHost: string;
  metricsPort: number;
  network: string;
  /** `--genesis-validators-root`: the chain's, where the network does not say (a config YAML alone). */
  genesisValidatorsRoot?: string;
  workers?: number;
  maxBodyBytes: number;
  /** A client that has not sent its whole request body after this long is dropped. */
  requestTimeoutMs: number;
  /** Requests in flight past which new sign requests get a 503. */
  maxInFlight: number;
  /** TLS for the signing API: both or neither. */
  tlsCert?: string;
  tlsKey?: string;
  /** EIP-3076 slashing protection database: `sqlite:PATH`, or `postgres://…` shared by several signers. */
  slashingProtection?: string;
  /** Refuse to start on uWebSockets.js's JavaScript fallback. */
  requireNativeHttp?: boolean;
  /** Refuse to start on the fallback signing engine (@chainsafe/blst sign() without the native addon). */
  requireNativeSigning?: boolean;
  /** Fault injection SPEC (src/server/faults.ts); off when absent or empty. */
  faults?: string;
  /** Enables the Keymanager API; imported keys persist here. */
  dataDir?: string;
  /** Bearer token file; default DATA_DIR/api-token.txt. */
  keymanagerTokenFile?: string;
};
