import {mkdtempSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {describe, expect, it} from "vitest";
import {builtinNetworks, FAR_FUTURE_EPOCH, loadNetwork} from "../src/config/networks.js";
import {hex} from "./helpers/reference.js";

const yaml = (text: string) => {
  const file = join(mkdtempSync(join(tmpdir(), "ts3signer-")), "config.yaml");
  writeFileSync(file, text);
  return file;
};

describe("networks", () => {
  it.each([
    ["mainnet", "mainnet", "0x00000000", "0x03000000", 269568n],
    ["minimal", "minimal", "0x00000001", "0x03000001", FAR_FUTURE_EPOCH],
    ["sepolia", "mainnet", "0x90000069", "0x90000072", 132608n],
    ["holesky", "mainnet", "0x01017000", "0x04017000", 29696n],
    ["hoodi", "mainnet", "0x10000910", "0x40000910", 0n],
    ["gnosis", "gnosis", "0x00000064", "0x03000064", 889856n],
    ["chiado", "gnosis", "0x0000006f", "0x0300006f", 516608n],
  ])("%s: preset %s, genesis %s, capella %s, deneb at %s", (name, preset, genesis, capella, deneb) => {
    const n = loadNetwork(name);
    expect(n.presetBase).toBe(preset);
    expect(hex(n.forks.phase0.version)).toBe(genesis);
    expect(hex(n.forks.capella.version)).toBe(capella);
    expect(n.forks.deneb.epoch).toBe(deneb);
  });

  it("loads every built-in network, each with its own genesis fork version", () => {
    const versions = [...builtinNetworks].map((name) => hex(loadNetwork(name).forks.phase0.version));
    expect(versions.length).toBeGreaterThanOrEqual(7);
    expect(new Set(versions).size).toBe(versions.length);
  });

  it("changes SSZ lengths with the preset", () => {
    expect(loadNetwork("mainnet").preset.SYNC_COMMITTEE_SIZE).toBe(512);
    expect(loadNetwork("minimal").preset.SYNC_COMMITTEE_SIZE).toBe(32);
    expect(loadNetwork("gnosis").preset.SLOTS_PER_EPOCH).toBe(16);
  });

  it("reads a config YAML, keeping fork versions as hex (not numbers) and epochs exact", () => {
    const n = loadNetwork(
      yaml(
        "PRESET_BASE: minimal\nCONFIG_NAME: kurtosis\nGENESIS_FORK_VERSION: 0x10000038\nALTAIR_FORK_VERSION: 0x20000038\nALTAIR_FORK_EPOCH: 0\nDENEB_FORK_VERSION: 0x50000038\nDENEB_FORK_EPOCH: 18446744073709551615\n"
      )
    );
    expect(n.name).toBe("kurtosis");
    expect(n.presetBase).toBe("minimal");
    expect(hex(n.forks.phase0.version)).toBe("0x10000038");
    expect(hex(n.forks.altair.version)).toBe("0x20000038");
    expect(n.forks.deneb.epoch).toBe(FAR_FUTURE_EPOCH);
    expect(n.forks.electra.epoch).toBe(FAR_FUTURE_EPOCH);
  });

  it.each([
    ["PRESET_BASE: mainnet\nGENESIS_FORK_VERSION: 0x1\n", /GENESIS_FORK_VERSION: expected a 4-byte fork version/],
    ["PRESET_BASE: huge\nGENESIS_FORK_VERSION: 0x00000001\n", /PRESET_BASE: unknown preset "huge"/],
    ["PRESET_BASE: mainnet\nGENESIS_FORK_VERSION: 0x00000001\nALTAIR_FORK_EPOCH: soon\n", /ALTAIR_FORK_EPOCH: expected an epoch/],
    [
      "PRESET_BASE: mainnet\nGENESIS_FORK_VERSION: 0x00000001\nALTAIR_FORK_EPOCH: 5\n",
      /ALTAIR_FORK_VERSION: expected a 4-byte fork version/,
    ],
    ["- a\n- b\n", /not a YAML mapping|GENESIS_FORK_VERSION/],
  ])("rejects a bad config YAML (%#)", (text, message) => {
    expect(() => loadNetwork(yaml(text))).toThrow(message);
  });

  it("says what it knows for an unknown name", () => {
    expect(() => loadNetwork("prater")).toThrow(/unknown network "prater" \(known: mainnet, minimal/);
    expect(() => loadNetwork("./missing.yaml")).toThrow(/cannot read network config/);
  });
});
