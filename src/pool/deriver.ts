import type {GeneratedKeys, GenerateTask} from "./protocol.js";

/**
 * What key loading needs from the signing workers (the scalar multiplications, off the main
 * thread). The pool implements it; keys/ knows only this.
 */
export interface KeyDeriver {
  /**
   * Public keys (48 bytes each) of secret keys (32 bytes each, concatenated). `secretKeys` must own
   * its whole ArrayBuffer (copySecret() in scalar.ts): it is transferred to the worker and wiped there, so no
   * copy stays behind on this thread.
   */
  derivePublicKeys(secretKeys: Uint8Array): Promise<Uint8Array>;
  /** Interop or mnemonic keys; the secrets come back transferred, never as a clone left in the worker. */
  generateKeys(task: GenerateTask): Promise<GeneratedKeys>;
}
