import {digest64} from "@chainsafe/as-sha256";
import {bytesToHex} from "../hex.js";

export type DomainType = Uint8Array;
const domainType = (hex: string): DomainType => new Uint8Array(Buffer.from(hex, "hex"));

// consensus-specs beacon-chain.md, "Domain types" (builder-specs for APPLICATION_BUILDER)
export const DOMAIN_BEACON_PROPOSER = domainType("00000000");
export const DOMAIN_BEACON_ATTESTER = domainType("01000000");
export const DOMAIN_RANDAO = domainType("02000000");
export const DOMAIN_DEPOSIT = domainType("03000000");
export const DOMAIN_VOLUNTARY_EXIT = domainType("04000000");
export const DOMAIN_SELECTION_PROOF = domainType("05000000");
export const DOMAIN_AGGREGATE_AND_PROOF = domainType("06000000");
export const DOMAIN_SYNC_COMMITTEE = domainType("07000000");
export const DOMAIN_SYNC_COMMITTEE_SELECTION_PROOF = domainType("08000000");
export const DOMAIN_CONTRIBUTION_AND_PROOF = domainType("09000000");
export const DOMAIN_APPLICATION_BUILDER = domainType("00000001");

export const ZERO_ROOT = new Uint8Array(32);

/**
 * def compute_fork_data_root(current_version, genesis_validators_root):
 *     return hash_tree_root(ForkData(current_version=current_version, genesis_validators_root=genesis_validators_root))
 * def compute_domain(domain_type, fork_version, genesis_validators_root):
 *     fork_data_root = compute_fork_data_root(fork_version, genesis_validators_root)
 *     return Domain(domain_type + fork_data_root[:28])
 *
 * ForkData is two chunks (the version right-padded to 32 bytes, then the root), so its root is one
 * sha256 of 64 bytes.
 */
export function computeDomain(type: DomainType, forkVersion: Uint8Array, genesisValidatorsRoot: Uint8Array): Uint8Array {
  const forkData = new Uint8Array(64);
  forkData.set(forkVersion, 0);
  forkData.set(genesisValidatorsRoot, 32);
  const domain = new Uint8Array(32);
  domain.set(type, 0);
  domain.set(digest64(forkData).subarray(0, 28), 4);
  return domain;
}

/**
 * def compute_signing_root(ssz_object, domain):
 *     return hash_tree_root(SigningData(object_root=hash_tree_root(ssz_object), domain=domain))
 */
export function computeSigningRoot(objectRoot: Uint8Array, domain: Uint8Array): Uint8Array {
  const signingData = new Uint8Array(64);
  signingData.set(objectRoot, 0);
  signingData.set(domain, 32);
  return digest64(signingData);
}

/**
 * Domains repeat: a validator client signs thousands of messages per fork with the same few
 * (type, version, genesis root) triples. The cache is bounded so hostile input cannot grow it.
 */
export class DomainCache {
  private readonly cache = new Map<string, Uint8Array>();
  constructor(private readonly maxEntries = 1024) {}

  get(type: DomainType, forkVersion: Uint8Array, genesisValidatorsRoot: Uint8Array): Uint8Array {
    const key = bytesToHex(type) + bytesToHex(forkVersion) + bytesToHex(genesisValidatorsRoot);
    let domain = this.cache.get(key);
    if (!domain) {
      if (this.cache.size >= this.maxEntries) this.cache.clear();
      domain = computeDomain(type, forkVersion, genesisValidatorsRoot);
      this.cache.set(key, domain);
    }
    return domain;
  }
}
