import {BitArray} from "@chainsafe/ssz";
import {ssz} from "@lodestar/types";
import {describe, expect, it} from "vitest";
import {loadNetwork} from "../src/config/networks.js";
import {createSigningContext, parseRequestBody, requestTypeOf, signingRootOf} from "../src/signing/signingRoot.js";
import {bytes, computeDomain, computeSigningRoot, DOMAIN, hex, merkleize, uint64Chunk} from "./helpers/reference.js";

const MAX = 2n ** 64n - 1n;
const gvr = "0x" + "42".repeat(32);
const forkInfo = (previous: string, current: string, epoch: string) => ({
  fork: {previous_version: previous, current_version: current, epoch},
  genesis_validators_root: gvr,
});
function rootOf(network: string, bodyText: string): string {
  const ctx = createSigningContext(loadNetwork(network));
  const body = parseRequestBody(bodyText);
  return hex(signingRootOf(body, requestTypeOf(body), ctx));
}

describe("uint64 fields", () => {
  const checkpointRoot = (epoch: bigint, root: Uint8Array) => merkleize([uint64Chunk(epoch), root]);
  const blockRoot = bytes("0x" + "aa".repeat(32));
  const attestationRoot = (slot: bigint, index: bigint, epoch: bigint) =>
    merkleize([uint64Chunk(slot), uint64Chunk(index), blockRoot, checkpointRoot(epoch, blockRoot), checkpointRoot(epoch, blockRoot)]);
  const expected = (slot: bigint, index: bigint, epoch: bigint) =>
    hex(computeSigningRoot(attestationRoot(slot, index, epoch), computeDomain(DOMAIN.BEACON_ATTESTER, bytes("0x00000001"), bytes(gvr))));

  // Raw JSON text, so integer literals reach the parser exactly as a client wrote them.
  const attestation = (slot: string, index: string, epoch: string) =>
    `{"type":"ATTESTATION","fork_info":${JSON.stringify(forkInfo("0x00000001", "0x00000001", "0"))},` +
    `"attestation":{"slot":${slot},"index":${index},"beacon_block_root":"${hex(blockRoot)}",` +
    `"source":{"epoch":${epoch},"root":"${hex(blockRoot)}"},"target":{"epoch":${epoch},"root":"${hex(blockRoot)}"}}}`;

  it.each([0n, 2n ** 53n + 1n, MAX])("takes %s exactly, as a decimal string", (n) => {
    expect(rootOf("minimal", attestation(`"${n}"`, `"${n}"`, `"${n}"`))).toBe(expected(n, n, n));
  });

  it.each([0n, 2n ** 53n + 1n, MAX])("takes %s exactly, as a JSON integer", (n) => {
    expect(rootOf("minimal", attestation(`${n}`, `${n}`, `${n}`))).toBe(expected(n, n, n));
  });

  it("keeps big integers inside strings untouched", () => {
    // The quoting pre-pass must not rewrite digits that sit inside a string.
    const text = attestation(`"1"`, `"2"`, `"3"`).replace('"type"', `"note":"x:12345678901234567890",\n"type"`);
    expect(rootOf("minimal", text)).toBe(expected(1n, 2n, 3n));
  });

  it.each([
    [`"${MAX + 1n}"`, /attestation\.slot: 18446744073709551616 is out of the uint64 range/],
    [`${MAX + 1n}`, /attestation\.slot: 18446744073709551616 is out of the uint64 range/],
    [`"-1"`, /attestation\.slot: expected a uint64 as a decimal string, got "-1"/],
    [`-1`, /attestation\.slot: expected a non-negative integer, got -1/],
    [`1.5`, /attestation\.slot: expected a non-negative integer, got 1\.5/],
    [`1e300`, /attestation\.slot: expected a non-negative integer|not exact/],
    [`"0x10"`, /attestation\.slot: expected a uint64 as a decimal string/],
    [`""`, /attestation\.slot: expected a uint64 as a decimal string/],
    [`" 1"`, /attestation\.slot: expected a uint64 as a decimal string/],
    [`true`, /attestation\.slot: expected a uint64 \(decimal string\), got boolean true/],
    [`"123456789012345678901"`, /attestation\.slot: expected a uint64 as a decimal string/],
  ])("rejects slot %s", (slot, message) => {
    expect(() => rootOf("minimal", attestation(slot, `"0"`, `"0"`))).toThrow(message);
  });
});

describe("VOLUNTARY_EXIT (EIP-7044)", () => {
  // fork_info as a client at Electra sends it, unless given.
  const exit = (epoch: bigint, info = forkInfo("0x04000000", "0x05000000", "364032")) =>
    JSON.stringify({
      type: "VOLUNTARY_EXIT",
      fork_info: info,
      voluntary_exit: {epoch: String(epoch), validator_index: "7"},
    });
  const exitRoot = (epoch: bigint) => merkleize([uint64Chunk(epoch), uint64Chunk(7n)]);
  const withVersion = (epoch: bigint, version: string) =>
    hex(computeSigningRoot(exitRoot(epoch), computeDomain(DOMAIN.VOLUNTARY_EXIT, bytes(version), bytes(gvr))));
  const MAINNET_DENEB = 269568n;

  it("uses the Capella fork version from Deneb on (mainnet)", () => {
    expect(rootOf("mainnet", exit(MAINNET_DENEB))).toBe(withVersion(MAINNET_DENEB, "0x03000000"));
    expect(rootOf("mainnet", exit(MAX))).toBe(withVersion(MAX, "0x03000000"));
  });

  it("uses the fork_info version before Deneb (mainnet)", () => {
    // A chain at Capella: an epoch before fork_info's epoch → previous_version, else current_version.
    const atCapella = forkInfo("0x02000000", "0x03000000", "194048");
    expect(rootOf("mainnet", exit(194047n, atCapella))).toBe(withVersion(194047n, "0x02000000"));
    expect(rootOf("mainnet", exit(MAINNET_DENEB - 1n, atCapella))).toBe(withVersion(MAINNET_DENEB - 1n, "0x03000000"));
  });

  it("uses the Capella version for an earlier epoch's exit signed on a chain past Deneb (mainnet)", () => {
    // Deneb's process_voluntary_exit verifies every exit over CAPELLA_FORK_VERSION, whatever its epoch.
    expect(rootOf("mainnet", exit(MAINNET_DENEB - 1n))).toBe(withVersion(MAINNET_DENEB - 1n, "0x03000000"));
    expect(rootOf("mainnet", exit(5n))).toBe(withVersion(5n, "0x03000000"));
  });

  it("follows fork_info where Deneb is not scheduled (minimal)", () => {
    expect(rootOf("minimal", exit(400000n))).toBe(withVersion(400000n, "0x05000000"));
  });

  it("uses each network's own Capella version (holesky)", () => {
    expect(rootOf("holesky", exit(29696n))).toBe(withVersion(29696n, "0x04017000"));
  });
});

describe("VALIDATOR_REGISTRATION (builder domain)", () => {
  const registration = {
    fee_recipient: "0x" + "12".repeat(20),
    gas_limit: "30000000",
    timestamp: "1700000000",
    pubkey: "0x" + "ab".repeat(48),
  };
  const messageRoot = merkleize([
    (() => {
      const c = new Uint8Array(32);
      c.set(bytes(registration.fee_recipient));
      return c;
    })(),
    uint64Chunk(30000000n),
    uint64Chunk(1700000000n),
    merkleize([
      bytes(registration.pubkey).subarray(0, 32),
      new Uint8Array([...bytes(registration.pubkey).subarray(32), ...new Uint8Array(16)]),
    ]),
  ]);

  it.each([
    ["mainnet", "0x00000000"],
    ["minimal", "0x00000001"],
    ["hoodi", "0x10000910"],
    ["gnosis", "0x00000064"],
  ])("on %s: GENESIS_FORK_VERSION %s and a zero genesis root, whatever fork_info says", (network, version) => {
    const body = {
      type: "VALIDATOR_REGISTRATION",
      fork_info: forkInfo("0x11111111", "0x22222222", "0"),
      validator_registration: registration,
    };
    const domain = computeDomain(DOMAIN.APPLICATION_BUILDER, bytes(version), new Uint8Array(32));
    expect(rootOf(network, JSON.stringify(body))).toBe(hex(computeSigningRoot(messageRoot, domain)));
  });
});

describe("fork version selection", () => {
  const randao = (epoch: string, forkEpoch: string) =>
    JSON.stringify({type: "RANDAO_REVEAL", fork_info: forkInfo("0x0a000000", "0x0b000000", forkEpoch), randao_reveal: {epoch}});
  const expected = (epoch: bigint, version: string) =>
    hex(computeSigningRoot(uint64Chunk(epoch), computeDomain(DOMAIN.RANDAO, bytes(version), bytes(gvr))));

  it("takes previous_version before the fork epoch and current_version from it on", () => {
    expect(rootOf("mainnet", randao("99", "100"))).toBe(expected(99n, "0x0a000000"));
    expect(rootOf("mainnet", randao("100", "100"))).toBe(expected(100n, "0x0b000000"));
    expect(rootOf("mainnet", randao(String(MAX), String(MAX)))).toBe(expected(MAX, "0x0b000000"));
  });

  it("accepts camelCase keys (previousVersion, forkInfo) as some published examples spell them", () => {
    const body = {
      type: "RANDAO_REVEAL",
      forkInfo: {fork: {previousVersion: "0x0a000000", currentVersion: "0x0b000000", epoch: "100"}, genesisValidatorsRoot: gvr},
      randaoReveal: {epoch: "99"},
    };
    expect(rootOf("mainnet", JSON.stringify(body))).toBe(expected(99n, "0x0a000000"));
  });
});

describe("BLOCK_V2", () => {
  const header = {
    slot: "40",
    proposer_index: "3",
    parent_root: "0x" + "11".repeat(32),
    state_root: "0x" + "22".repeat(32),
    body_root: "0x" + "33".repeat(32),
  };
  const headerRoot = merkleize([
    uint64Chunk(40n),
    uint64Chunk(3n),
    bytes(header.parent_root),
    bytes(header.state_root),
    bytes(header.body_root),
  ]);
  const expected = hex(computeSigningRoot(headerRoot, computeDomain(DOMAIN.BEACON_PROPOSER, bytes("0x00000001"), bytes(gvr))));

  // A block's root is its header's root, so the header alone is enough for any version; Nimbus sends
  // only the header whatever the fork (eth2_rest_serialization.nim, v24.9, Web3SignerForkedBeaconBlock).
  it.each(["PHASE0", "ALTAIR", "BELLATRIX", "FULU"])("signs a block_header sent with version %s", (version) => {
    const body = {type: "BLOCK_V2", fork_info: forkInfo("0x00000001", "0x00000001", "0"), beacon_block: {version, block_header: header}};
    expect(rootOf("mainnet", JSON.stringify(body))).toBe(expected);
  });

  it("still names the missing field when PHASE0 has neither block nor block_header", () => {
    const body = {type: "BLOCK_V2", fork_info: forkInfo("0x00000001", "0x00000001", "0"), beacon_block: {version: "PHASE0"}};
    expect(() => rootOf("mainnet", JSON.stringify(body))).toThrow(/beacon_block\.block: missing/);
  });
});

describe("AGGREGATE_AND_PROOF and AGGREGATE_AND_PROOF_V2", () => {
  const electra = ssz.electra.AggregateAndProof.defaultValue();
  electra.aggregate.data.slot = 11_649_025; // mainnet, Electra
  electra.aggregate.committeeBits.set(5, true);
  electra.aggregate.aggregationBits = BitArray.fromBoolArray(Array.from({length: 3000}, (_, i) => i % 3 === 0));
  electra.aggregatorIndex = 77;
  const electraJson = ssz.electra.AggregateAndProof.toJson(electra);
  const electraRoot = hex(
    computeSigningRoot(
      ssz.electra.AggregateAndProof.hashTreeRoot(electra),
      computeDomain(DOMAIN.AGGREGATE_AND_PROOF, bytes("0x05000000"), bytes(gvr))
    )
  );
  const body = (type: string, payload: unknown) =>
    JSON.stringify({type, fork_info: forkInfo("0x04000000", "0x05000000", "364032"), aggregate_and_proof: payload});

  // Lighthouse (signing_method/src/web3signer.rs), Teku (ExternalSigner.java) and Grandine
  // (signer/src/web3signer/types.rs) send the unversioned type with Electra's shape after Electra.
  it("signs Electra's shape (with committee_bits) sent as the unversioned type", () => {
    expect(rootOf("mainnet", body("AGGREGATE_AND_PROOF", electraJson))).toBe(electraRoot);
  });

  // Web3Signer's AggregateAndProofV2Deserializer reads both types, in either form.
  it("takes either form under either type", () => {
    expect(rootOf("mainnet", body("AGGREGATE_AND_PROOF_V2", electraJson))).toBe(electraRoot);
    expect(rootOf("mainnet", body("AGGREGATE_AND_PROOF", {version: "ELECTRA", data: electraJson}))).toBe(electraRoot);
    expect(rootOf("mainnet", body("AGGREGATE_AND_PROOF_V2", {version: "ELECTRA", data: electraJson}))).toBe(electraRoot);
  });

  it("names what a versioned form lacks", () => {
    expect(() => rootOf("mainnet", body("AGGREGATE_AND_PROOF_V2", {version: "ELECTRA"}))).toThrow(/aggregate_and_proof\.data: missing/);
    expect(() => rootOf("mainnet", body("AGGREGATE_AND_PROOF_V2", {data: electraJson}))).toThrow(/aggregate_and_proof\.version: missing/);
    expect(() => rootOf("mainnet", body("AGGREGATE_AND_PROOF_V2", {version: "DENEB", data: electraJson}))).toThrow(
      /aggregate_and_proof\.data\.aggregate\.aggregation_bits/
    );
  });
});
