import {setHasher} from "@chainsafe/persistent-merkle-tree";
import {hasher as asSha256Hasher} from "@chainsafe/persistent-merkle-tree/hasher/as-sha256";

/**
 * SSZ hashing defaults to a pure-JS sha256 (noble). The native hashtree hasher computes an
 * attestation's root 2.5× faster and an Altair block's 4× faster (npm run bench, "root …" rows);
 * the WASM as-sha256 hasher is the fallback where hashtree's binary does not load.
 */
try {
  const {hasher} = await import("@chainsafe/persistent-merkle-tree/hasher/hashtree");
  setHasher(hasher);
} catch {
  setHasher(asSha256Hasher);
}
