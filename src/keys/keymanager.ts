import {mkdirSync} from "node:fs";
import {join} from "node:path";
import {bytesToHex} from "../hex.js";
import type {Logger} from "../log.js";
import type {KeyDeriver} from "../pool/deriver.js";
import {type Interchange, parseInterchange} from "../slashing/interchange.js";
import type {SlashingStore} from "../slashing/store.js";
import {removeKeyPair, writeKeyPair} from "./keyPair.js";
import type {KeyStore} from "./keyStore.js";
import {openKeystore} from "./sources.js";

export type ImportStatus = {status: "imported" | "duplicate" | "error"; message?: string};
export type DeleteStatus = {status: "deleted" | "not_active" | "not_found" | "error"; message?: string};

/**
 * The Keymanager API's key operations (ethereum/keymanager-APIs), persisted in the data dir:
 * `keystores/0x<pubkey>.json` with `passwords/0x<pubkey>.txt`, both 0600 and written atomically.
 * Imported keys sign as soon as import() returns; deleted keys stop as soon as delete() returns.
 */
export class KeyManager {
  private readonly keystoresDir: string;
  private readonly passwordsDir: string;

  constructor(
    private readonly dataDir: string,
    private readonly keys: KeyStore,
    private readonly deriver: KeyDeriver,
    private readonly log: Logger,
    /** The network's, where known: exports name it when the database is bound to no chain yet. */
    private readonly genesisValidatorsRoot: string | undefined,
    private readonly slashing?: SlashingStore
  ) {
    this.keystoresDir = join(dataDir, "keystores");
    this.passwordsDir = join(dataDir, "passwords");
    mkdirSync(this.keystoresDir, {recursive: true, mode: 0o700});
    mkdirSync(this.passwordsDir, {recursive: true, mode: 0o700});
  }

  list(): {validating_pubkey: string; derivation_path: string; readonly: boolean}[] {
    return [...this.keys.entries()].map((e) => ({
      validating_pubkey: e.pubkeyHex,
      derivation_path: e.derivationPath ?? "",
      readonly: e.readonly,
    }));
  }

  /**
   * Imports keystores, and first their slashing protection history (EIP-3076 interchange) when
   * slashing protection is on, so no key can sign before its history is known. A bad interchange
   * document, or one of another chain, throws, and nothing is imported. The history is imported
   * whole, also for keys whose keystore then fails to import: it binds them whenever they come.
   */
  async import(keystores: string[], passwords: string[], slashingProtection?: string): Promise<ImportStatus[]> {
    let slashable = new Map<string, string[]>();
    if (slashingProtection !== undefined && this.slashing) {
      slashable = await this.slashing.importOffThread(slashingProtection);
      for (const [pubkey, findings] of slashable) {
        this.log.warn(
          "imported slashing protection history is slashable; all of it was kept, so nothing conflicting with it will be signed",
          {pubkey, findings}
        );
      }
    }
    // Without slashing protection there is nowhere to keep the history: say so rather than drop it quietly.
    const notKept = slashingProtection !== undefined && !this.slashing;
    if (notKept) {
      parseInterchange(slashingProtection); // still refused (400) when it is not an interchange document
      this.log.warn("slashing_protection sent with an import was not kept: slashing protection is off (--slashing-protection)");
    }
    const statuses = await this.importKeystores(keystores, passwords);
    return statuses.map(({pubkey, ...status}) => {
      if (notKept && status.status === "imported") {
        return {...status, message: "imported; its slashing_protection history was not kept: this signer runs without slashing protection"};
      }
      const findings = pubkey && slashable.get(pubkey);
      if (!findings) return status;
      const warning = `its slashing protection history is slashable (${findings.join("; ")}); all of it was kept, so nothing conflicting with it will be signed`;
      return {...status, message: status.message ? `${status.message}; ${warning}` : warning};
    });
  }

  private async importKeystores(keystores: string[], passwords: string[]): Promise<(ImportStatus & {pubkey?: string})[]> {
    // Decrypt in parallel (the KDFs run on the libuv pool), then add in request order so that a
    // key listed twice is imported once and reported as a duplicate the second time.
    const opened = await Promise.allSettled(keystores.map((text, i) => openKeystore(text, () => passwords[i], this.deriver)));
    // Keys deleted earlier (here or on another signer sharing the database) may sign again.
    const arriving = opened.flatMap((r) =>
      r.status === "fulfilled" && !this.keys.get(bytesToHex(r.value.publicKey)) ? [bytesToHex(r.value.publicKey)] : []
    );
    if (arriving.length) {
      try {
        await this.slashing?.activate(arriving);
      } catch (e) {
        for (const r of opened) if (r.status === "fulfilled") r.value.secretKey.fill(0);
        throw e;
      }
    }
    // One key after another, in request order, so a key listed twice is a duplicate the second time.
    const statuses: (ImportStatus & {pubkey?: string})[] = [];
    for (const [i, result] of opened.entries()) {
      if (result.status === "rejected") {
        statuses.push({status: "error", message: (result.reason as Error).message});
        continue;
      }
      const {keystore, secretKey, publicKey} = result.value;
      const pubkeyHex = bytesToHex(publicKey);
      try {
        if (this.keys.get(pubkeyHex)) {
          statuses.push({status: "duplicate", pubkey: pubkeyHex});
          continue;
        }
        await writeKeyPair(this.dataDir, pubkeyHex, keystores[i], passwords[i]);
        // Loaded meanwhile by this replica's data-dir sync (while waiting for another replica's writes).
        if (!this.keys.add(publicKey, secretKey, {source: "keymanager", readonly: false, derivationPath: keystore.path})) {
          statuses.push({status: "duplicate", pubkey: pubkeyHex});
          continue;
        }
        this.log.info("key imported", {pubkey: pubkeyHex});
        statuses.push({status: "imported", pubkey: pubkeyHex});
      } catch (e) {
        statuses.push({status: "error", message: `could not store the key: ${(e as Error).message}`, pubkey: pubkeyHex});
      } finally {
        secretKey.fill(0);
      }
    }
    return statuses;
  }

  async delete(pubkeys: string[]): Promise<{data: DeleteStatus[]; slashing_protection: string}> {
    const deleted: string[] = [];
    // Which unloaded keys have a history is read first; the keys are then removed without a pause.
    const withHistory = new Set<string>();
    for (const pubkey of pubkeys) {
      if (!this.keys.get(pubkey) && (await this.slashing?.hasHistory(pubkey.toLowerCase()))) withHistory.add(pubkey);
    }
    // Marked inactive in the database and exported in one transaction, under the keys' locks: from
    // its commit no signer sharing the database (another replica, say) signs a block or attestation
    // with them, so the history exported is final. If it fails, nothing is deleted (README).
    const retiring = [
      ...new Set(pubkeys.filter((pk) => withHistory.has(pk) || this.keys.get(pk)?.readonly === false).map((pk) => pk.toLowerCase())),
    ];
    const fallbackRoot = this.genesisValidatorsRoot ?? "0x" + "00".repeat(32);
    const exported = await this.slashing?.retire(retiring, fallbackRoot);
    const data: DeleteStatus[] = [];
    for (const pubkey of pubkeys) {
      const entry = this.keys.get(pubkey);
      if (!entry) {
        // Not loaded, but with a signing history: its history is still exported.
        if (withHistory.has(pubkey)) {
          deleted.push(pubkey.toLowerCase());
          data.push({status: "not_active"});
        } else data.push({status: "not_found"});
        continue;
      }
      if (entry.readonly) {
        data.push({status: "error", message: `the key is read-only (loaded from the ${entry.source} source at start)`});
        continue;
      }
      this.keys.remove(entry.pubkeyHex);
      deleted.push(entry.pubkeyHex);
      try {
        await removeKeyPair(this.dataDir, entry.pubkeyHex, (file, e) =>
          this.log.error("could not delete a key file", {file, error: e.message})
        );
      } catch (e) {
        // Another writer held the key's files past the wait: the key is gone from memory, its files may stay.
        this.log.error("could not delete a key's files", {pubkey: entry.pubkeyHex, error: (e as Error).message});
      }
      this.log.info("key deleted", {pubkey: entry.pubkeyHex});
      data.push({status: "deleted"});
    }
    // Without slashing protection there is no history: the same document, with empty lists.
    const interchange: Interchange = exported ?? {
      metadata: {interchange_format_version: "5", genesis_validators_root: fallbackRoot},
      data: deleted.map((pubkey) => ({pubkey, signed_blocks: [], signed_attestations: []})),
    };
    return {data, slashing_protection: JSON.stringify(interchange)};
  }
}
