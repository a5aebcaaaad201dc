/**
 * `--network DIR`: a testnet directory (config.yaml, genesis.ssz) gives the chain's genesis
 * validators root and time from its genesis state, for every fork's state layout; the slashing
 * protection database binds to that root. `--genesis-validators-root` does it for a config alone.
 */
import {mkdtempSync, readFileSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {ssz} from "@lodestar/types";
import {describe, expect, it} from "vitest";
import {beaconStateFixedSize} from "../src/config/genesisState.js";
import {type ForkName, forkNames, loadNetwork} from "../src/config/networks.js";
import {presets} from "../src/config/presets.js";
import {request, sign, startTestSigner} from "./helpers/signer.js";

const GVR = "0x" + "5e".repeat(32);
const OTHER = "0x" + "0f".repeat(32);
const GENESIS_TIME = 1_700_000_123;
const versionOf = (fork: ForkName) => `0x${forkNames.indexOf(fork).toString(16).padStart(2, "0")}00abcd`;

/** config.yaml of a devnet starting at `genesisFork` (mainnet preset); later forks unscheduled. */
function configYaml(genesisFork: ForkName, presetBase = "mainnet"): string {
  const lines = [`CONFIG_NAME: devnet-${genesisFork}`, `PRESET_BASE: '${presetBase}'`, `GENESIS_FORK_VERSION: ${versionOf("phase0")}`];
  for (const fork of forkNames.slice(1, forkNames.indexOf(genesisFork) + 1))
    lines.push(`${fork.toUpperCase()}_FORK_VERSION: ${versionOf(fork)}`, `${fork.toUpperCase()}_FORK_EPOCH: 0`);
  return lines.join("\n") + "\n";
}

/** A genesis state of `stateFork`'s layout (Lodestar's types, mainnet preset) with two validators. */
function genesisSsz(stateFork: ForkName, currentVersion = versionOf(stateFork)): Uint8Array {
  const type = ssz[stateFork].BeaconState;
  const state = type.defaultValue() as any;
  state.genesisTime = GENESIS_TIME;
  state.genesisValidatorsRoot = Buffer.from(GVR.slice(2), "hex");
  state.fork = {
    previousVersion: Buffer.from(versionOf("phase0").slice(2), "hex"),
    currentVersion: Buffer.from(currentVersion.slice(2), "hex"),
    epoch: 0,
  };
  for (let i = 0; i < 2; i++) {
    state.validators.push({...ssz.phase0.Validator.defaultValue(), pubkey: new Uint8Array(48).fill(i + 1), effectiveBalance: 32e9});
    state.balances.push(32e9);
  }
  return type.serialize(state);
}

function testnetDir(files: Record<string, string | Uint8Array>): string {
  const dir = mkdtempSync(join(tmpdir(), "ts3signer-testnet-"));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

describe("--network DIR (config.yaml and genesis.ssz)", () => {
  it("has each fork's BeaconState fixed part as Lodestar's types do", () => {
    for (const fork of forkNames)
      expect({fork, size: beaconStateFixedSize(fork, presets.mainnet)}).toEqual({fork, size: ssz[fork].BeaconState.fixedEnd});
  });

  it.each(forkNames.map((f) => [f]))("reads the genesis validators root and time from a %s genesis state", (fork) => {
    const dir = testnetDir({
      "config.yaml": configYaml(fork),
      "genesis.ssz": genesisSsz(fork),
      "deploy_block.txt": "0\n",
      "bootstrap_nodes.txt": "",
    });
    const network = loadNetwork(dir);
    expect({name: network.name, root: network.genesisValidatorsRoot, time: network.genesisTime}).toEqual({
      name: `devnet-${fork}`,
      root: GVR,
      time: BigInt(GENESIS_TIME),
    });
  });

  it("refuses a genesis.ssz that is not this network's state, saying why", () => {
    const electra = genesisSsz("electra");
    const refusal = (files: Record<string, string | Uint8Array>) => {
      try {
        loadNetwork(testnetDir(files));
        return "loaded";
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(refusal({"config.yaml": configYaml("electra"), "genesis.ssz": electra.subarray(0, 1000)})).toMatch(
      /genesis\.ssz: not a BeaconState: it ends at byte 1000$/
    );
    expect(refusal({"config.yaml": configYaml("electra"), "genesis.ssz": electra.subarray(0, 20)})).toMatch(/it ends at byte 20$/);
    // Another network's state: its fork version is not this config's.
    expect(refusal({"config.yaml": configYaml("deneb"), "genesis.ssz": electra})).toMatch(
      /its fork version 0x0500abcd at slot 0 is not 0x0400abcd, the deneb fork's version/
    );
    // A Deneb state claiming Electra's version: the layout gives it away.
    expect(refusal({"config.yaml": configYaml("electra"), "genesis.ssz": genesisSsz("deneb", versionOf("electra"))})).toMatch(
      /not a BeaconState of the electra fork and the mainnet preset: the offset of historical_roots is 2736653, not 2736713/
    );
    // A mainnet-preset state for a minimal-preset network.
    expect(refusal({"config.yaml": configYaml("electra", "minimal"), "genesis.ssz": electra})).toMatch(
      /not a BeaconState of the electra fork and the minimal preset/
    );
    // Offsets past the end of the file.
    const cut = electra.subarray(0, beaconStateFixedSize("electra", presets.mainnet) + 10);
    expect(refusal({"config.yaml": configYaml("electra"), "genesis.ssz": cut})).toMatch(/the offset of \w+ is \d+, outside \d+…2736723/);
    expect(refusal({"config.yaml": configYaml("electra")})).toMatch(/no genesis\.ssz/);
  });
});

describe("--genesis-validators-root", () => {
  it("gives a config YAML alone its chain, and must agree with a network that has one", () => {
    const dir = testnetDir({"config.yaml": configYaml("electra"), "genesis.ssz": genesisSsz("electra")});
    const config = join(dir, "config.yaml");
    expect(loadNetwork(config).genesisValidatorsRoot).toBeUndefined();
    expect(loadNetwork(config, {genesisValidatorsRoot: OTHER.toUpperCase().replace("0X", "0x")}).genesisValidatorsRoot).toBe(OTHER);
    expect(loadNetwork(dir, {genesisValidatorsRoot: GVR}).genesisValidatorsRoot).toBe(GVR);
    expect(() => loadNetwork(dir, {genesisValidatorsRoot: OTHER})).toThrow(
      `--genesis-validators-root ${OTHER} is not ${GVR}, the root of network devnet-electra`
    );
    expect(() => loadNetwork("mainnet", {genesisValidatorsRoot: OTHER})).toThrow(/is not 0x4b363db9/);
    expect(() => loadNetwork(config, {genesisValidatorsRoot: "0x1234"})).toThrow(
      '--genesis-validators-root: expected 32 bytes of 0x hex, got "0x1234"'
    );
  });
});

describe("a signer on a testnet directory with slashing protection", () => {
  it("binds its database to the directory's chain: another chain's interchange and requests are refused", async () => {
    const network = testnetDir({"config.yaml": configYaml("electra"), "genesis.ssz": genesisSsz("electra")});
    const dataDir = mkdtempSync(join(tmpdir(), "ts3signer-testnet-data-"));
    const s = await startTestSigner({network, interopKeys: "1", dataDir, slashingProtection: `sqlite:${join(dataDir, "slashing.sqlite")}`});
    const headers = {
      authorization: `Bearer ${readFileSync(join(dataDir, "api-token.txt"), "utf8").trim()}`,
      "content-type": "application/json",
    };
    const [pubkey] = s.signer.keys.publicKeys();
    const history = (root: string) =>
      JSON.stringify({
        metadata: {interchange_format_version: "5", genesis_validators_root: root},
        data: [{pubkey, signed_blocks: [], signed_attestations: [{source_epoch: "1", target_epoch: "2"}]}],
      });
    const importHistory = (root: string) =>
      request(`${s.url}/eth/v1/keystores`, {
        method: "POST",
        headers,
        body: JSON.stringify({keystores: [], passwords: [], slashing_protection: history(root)}),
      });
    const fork = {previous_version: versionOf("deneb"), current_version: versionOf("electra"), epoch: "0"};
    const vote = (root: string, source: number, target: number) => ({
      type: "ATTESTATION",
      fork_info: {fork, genesis_validators_root: root},
      attestation: {
        slot: String(target * 32),
        index: "0",
        beacon_block_root: GVR,
        source: {epoch: String(source), root: GVR},
        target: {epoch: String(target), root: GVR},
      },
    });
    try {
      // Refused although the database was empty: it was bound to the directory's root at start.
      const other = await importHistory(OTHER);
      expect([other.status, other.json().message]).toEqual([
        400,
        `slashing_protection: genesis_validators_root ${OTHER} is not ${GVR}, the chain this signer's slashing protection database belongs to`,
      ]);
      expect((await sign(s.url, pubkey, vote(OTHER, 3, 4))).status).toBe(412);
      expect((await importHistory(GVR)).status).toBe(200);
      expect((await sign(s.url, pubkey, vote(GVR, 0, 3))).status).toBe(412); // surrounds the imported 1 → 2
      expect((await sign(s.url, pubkey, vote(GVR, 2, 3))).status).toBe(200);
    } finally {
      await s.close();
    }
  });
});
