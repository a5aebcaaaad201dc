/**
 * Every validator client's own request shapes against one signer: each duty on each fork is sent as
 * that client sends it (headers, keys, type per fork, fork_info), the answer is read as that client
 * reads it, and the signature must verify against the root the consensus specs give (duties.ts).
 */
import {PublicKey, Signature, verify} from "@chainsafe/blst";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {startTestSigner, type TestSigner} from "../helpers/signer.js";
import {allDuties} from "./duties.js";
import {grandine} from "./grandine.js";
import {lighthouse} from "./lighthouse.js";
import {lodestarCurrent, lodestarOld} from "./lodestar.js";
import {nimbus} from "./nimbus.js";
import {prysm} from "./prysm.js";
import {teku} from "./teku.js";
import {type ClientShape, send} from "./wire.js";

const clients: ClientShape[] = [lighthouse, teku, prysm, nimbus, lodestarCurrent, lodestarOld, grandine];

/** The client tests against a signer started with `--network network` (the chain duties.ts describes). */
export function defineClientTests(network: string): void {
  let s: TestSigner;
  let pubkeys: string[];
  beforeAll(async () => {
    s = await startTestSigner({network, interopKeys: "4"});
    pubkeys = s.signer.keys.publicKeys();
  });
  afterAll(() => s?.close());

  describe.each(clients)("$name $versions ($source)", (client) => {
    const duties = allDuties.filter((d) => client.forks.includes(d.fork));

    it("gets a signature it can read for every duty it sends on every fork, over the specs' root", async () => {
      const sent = duties.flatMap((duty, i) => {
        const pubkey = pubkeys[i % pubkeys.length];
        const request = client.signRequest(pubkey, duty);
        return request ? [{duty, pubkey, request}] : [];
      });
      const answers = await Promise.all(sent.map(({request}) => send(s.url, request)));
      const failures: string[] = [];
      sent.forEach(({duty, pubkey}, i) => {
        try {
          const signature = Signature.fromHex(client.readSignature(answers[i]));
          if (!verify(duty.root, PublicKey.fromHex(pubkey), signature)) failures.push(`${duty.name}: the signature does not verify`);
        } catch (e) {
          failures.push(`${duty.name}: ${(e as Error).message} (HTTP ${answers[i].status}: ${answers[i].body.slice(0, 200)})`);
        }
      });
      expect(failures).toEqual([]);
      expect(new Set(answers.map((a) => a.contentType))).toEqual(new Set([client.answerType]));
      // Every fork it covers was exercised.
      expect(new Set(sent.map((x) => x.duty.fork))).toEqual(new Set(client.forks));
    });

    const {publicKeys} = client;
    if (publicKeys) {
      it("reads the signer's public keys", async () => {
        expect(publicKeys.read(await send(s.url, publicKeys.request)).sort()).toEqual([...pubkeys].sort());
      });
    }

    it("reports an unknown key as an error, not as a signature", async () => {
      const duty = duties.find((d) => d.kind === "attestation")!;
      const request = client.signRequest("0x" + "ab".repeat(48), duty)!;
      const answer = await send(s.url, request);
      expect(answer.status).toBe(404);
      expect(() => client.readSignature(answer)).toThrow();
    });
  });

  describe("Teku", () => {
    it("sees the signer up: GET /upcheck answers 200", async () => {
      expect((await send(s.url, {method: "GET", path: "/upcheck", headers: {}})).status).toBe(200);
    });
  });

  describe("Lodestar", () => {
    // In its SignableMessageType and serializer, but no code path sends it (its CLI signs the change
    // with the withdrawal key itself); Web3Signer has no such type either.
    it("gets a 400 naming the known types for BLS_TO_EXECUTION_CHANGE, and reports it", async () => {
      const change = {validator_index: "1", from_bls_pubkey: "0x" + "aa".repeat(48), to_execution_address: "0x" + "bb".repeat(20)};
      const body = {BLS_TO_EXECUTION_CHANGE: change, type: "BLS_TO_EXECUTION_CHANGE", signingRoot: "0x" + "00".repeat(32)};
      const answer = await send(s.url, {
        method: "POST",
        path: `/api/v1/eth2/sign/${pubkeys[0]}`,
        headers: {accept: "application/json", "content-type": "application/json"},
        body: JSON.stringify(body),
      });
      expect(answer.status).toBe(400);
      expect(() => lodestarCurrent.readSignature(answer)).toThrow(
        /type: unknown request type \\"BLS_TO_EXECUTION_CHANGE\\" \(known: .*VOLUNTARY_EXIT/
      );
    });
  });
}
