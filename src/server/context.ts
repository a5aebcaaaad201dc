import type {KeyManager} from "../keys/keymanager.js";
import type {KeyStore} from "../keys/keyStore.js";
import type {Reloader} from "../keys/reloader.js";
import type {Logger} from "../log.js";
import type {Metrics} from "../metrics/metrics.js";
import type {SignerPool} from "../pool/pool.js";
import type {SlashingHealth} from "../slashing/health.js";
import type {Faults} from "./faults.js";
import type {Lifecycle} from "./lifecycle.js";
import type {RequestTimeouts} from "./requestTimeouts.js";

/** What the HTTP routes share: built once by startSigner (src/signer.ts), read by every route. */
export type AppContext = {
  keys: KeyStore;
  pool: SignerPool;
  metrics: Metrics;
  log: Logger;
  lifecycle: Lifecycle;
  reloader: Reloader;
  maxBodyBytes: number;
  /** Requests received and not yet answered, past which new sign requests get a 503. */
  maxInFlight: number;
  timeouts: RequestTimeouts;
  /** Injected faults (--faults, or set at run time); off when it holds no rule. */
  faults: Faults;
  /** Whether the slashing protection database answers (--slashing-protection); /healthcheck reports it. */
  slashingHealth?: Pick<SlashingHealth, "isUp">;
  /** Present when the Keymanager API is enabled (--data-dir). */
  keymanager?: {km: KeyManager; token: string};
};
