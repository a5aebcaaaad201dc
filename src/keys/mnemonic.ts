import {createHash, hkdfSync} from "node:crypto";
import {mnemonicToSeedSync, validateMnemonic} from "ethereum-cryptography/bip39/index.js";
import {wordlist} from "ethereum-cryptography/bip39/wordlists/english.js";
import {bytesToScalar, scalarToBytes} from "./scalar.js";

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest();
const i2osp = (n: number, length: number) => {
  const out = Buffer.alloc(length);
  out.writeUIntBE(n, 0, length);
  return out;
};

/**
 * EIP-2333 HKDF_mod_r:
 *   salt = H(salt) until SK != 0; PRK = HKDF-Extract(salt, IKM || I2OSP(0, 1));
 *   OKM = HKDF-Expand(PRK, key_info || I2OSP(L, 2), L = 48); SK = OS2IP(OKM) mod r
 */
function hkdfModR(ikm: Uint8Array, keyInfo: Uint8Array = new Uint8Array(0)): bigint {
  let salt: Uint8Array = Buffer.from("BLS-SIG-KEYGEN-SALT-");
  let sk = 0n;
  while (sk === 0n) {
    salt = sha256(salt);
    const okm = hkdfSync("sha256", Buffer.concat([ikm, i2osp(0, 1)]), salt, Buffer.concat([keyInfo, i2osp(48, 2)]), 48);
    sk = bytesToScalar(new Uint8Array(okm));
  }
  return sk;
}

/** EIP-2333 parent_SK_to_lamport_PK: two Lamport keys (from IKM and its bitwise complement), hashed. */
function parentSkToLamportPk(parentSk: bigint, index: number): Buffer {
  const salt = i2osp(index, 4);
  const ikm = scalarToBytes(parentSk);
  const notIkm = Buffer.from(ikm.map((b) => b ^ 0xff));
  const chunks: Buffer[] = [];
  for (const key of [ikm, notIkm]) {
    const lamport = Buffer.from(hkdfSync("sha256", key, salt, Buffer.alloc(0), 32 * 255));
    for (let i = 0; i < 255; i++) chunks.push(sha256(lamport.subarray(i * 32, i * 32 + 32)));
  }
  return sha256(Buffer.concat(chunks));
}

export function deriveMasterSk(seed: Uint8Array): bigint {
  if (seed.length < 32) throw new Error("EIP-2333 needs a seed of at least 32 bytes");
  return hkdfModR(seed);
}

export function deriveChildSk(parentSk: bigint, index: number): bigint {
  return hkdfModR(parentSkToLamportPk(parentSk, index));
}

/** Derives along an EIP-2334 path such as m/12381/3600/0/0/0. */
export function deriveSecretKey(seed: Uint8Array, path: string): Uint8Array {
  const parts = path.split("/");
  if (parts[0] !== "m") throw new Error(`a derivation path starts with m/: ${path}`);
  let sk = deriveMasterSk(seed);
  for (const part of parts.slice(1)) {
    if (!/^\d+$/.test(part) || Number(part) >= 2 ** 32) throw new Error(`bad path index "${part}" in ${path}`);
    sk = deriveChildSk(sk, Number(part));
  }
  return scalarToBytes(sk);
}

/** EIP-2334: the signing key of validator i. */
export const signingKeyPath = (index: number) => `m/12381/3600/${index}/0/0`;

/** BIP-39 mnemonic (English, checksum verified) → seed, with an empty passphrase as deposit tools use. */
export function mnemonicToSeed(mnemonic: string, passphrase = ""): Uint8Array {
  const normalized = mnemonic.normalize("NFKD").trim().split(/\s+/).join(" ");
  if (!validateMnemonic(normalized, wordlist))
    throw new Error("the mnemonic is not a valid BIP-39 English mnemonic (wrong words or checksum)");
  return mnemonicToSeedSync(normalized, passphrase);
}
