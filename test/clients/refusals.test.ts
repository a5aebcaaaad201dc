/**
 * A slashing refusal (412) as each client meets it: the second, different block at a slot is refused,
 * and the client reads the answer as an error, not as a signature (Teku and Prysm name slashing).
 */

import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {PublicKey, Signature, verify} from "@chainsafe/blst";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {startTestSigner, type TestSigner} from "../helpers/signer.js";
import {blockDuty, dutiesAt} from "./duties.js";
import {grandine} from "./grandine.js";
import {lighthouse} from "./lighthouse.js";
import {lodestarCurrent} from "./lodestar.js";
import {nimbus} from "./nimbus.js";
import {prysm} from "./prysm.js";
import {teku} from "./teku.js";
import {send} from "./wire.js";

const clients = [lighthouse, teku, prysm, nimbus, lodestarCurrent, grandine];
const slashingMessage = new Map([
  [teku, /slashing condition/],
  [prysm, /slashing protection/],
]);

let s: TestSigner;
let dir: string;
let pubkey: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ts3signer-clients-"));
  s = await startTestSigner({network: "mainnet", interopKeys: "1", slashingProtection: `sqlite:${join(dir, "slashing.sqlite")}`});
  pubkey = s.signer.keys.publicKeys()[0];
});
afterAll(async () => {
  await s?.close();
  rmSync(dir, {recursive: true, force: true});
});

describe.each(clients.map((client, i) => ({client, i, name: client.name})))("$name", ({client, i}) => {
  it("reads a 412 for a second, different block at a slot as an error", async () => {
    const block = dutiesAt("deneb").find((d) => d.kind === "block")!;
    const first = blockDuty(block, {slot: block.slot + i});
    const second = blockDuty(first, {proposerIndex: first.value.proposerIndex + 1});

    const signed = await send(s.url, client.signRequest(pubkey, first)!);
    expect(verify(first.root, PublicKey.fromHex(pubkey), Signature.fromHex(client.readSignature(signed)))).toBe(true);

    const refused = await send(s.url, client.signRequest(pubkey, second)!);
    expect(refused.status).toBe(412);
    expect(() => client.readSignature(refused)).toThrow(slashingMessage.get(client) ?? /./);
  });
});
