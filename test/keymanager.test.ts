import {mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {PublicKey, SecretKey, Signature, verify} from "@chainsafe/blst";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {encryptKeystore} from "../src/keys/eip2335.js";
import {interopSecretKey} from "../src/keys/interop.js";
import {deriveSecretKey, signingKeyPath} from "../src/keys/mnemonic.js";
import {request, sign, startTestSigner, type TestSigner, vectorsPath} from "./helpers/signer.js";

const attestation = (JSON.parse(readFileSync(vectorsPath, "utf8")) as {name: string; request: object; signing_root: string}[]).find(
  (v) => v.name === "web3signer: ATTESTATION"
)!;
const root = Buffer.from(attestation.signing_root.slice(2), "hex");

/** Interop key i as a keystore (cheap KDF parameters: these tests are about the signer, not the KDF). */
async function keystoreOf(i: number, password: string, kdf: "pbkdf2" | "scrypt" = "pbkdf2") {
  const secret = interopSecretKey(i);
  const pubkey = SecretKey.fromBytes(secret).toPublicKey().toBytes();
  const salt = Buffer.alloc(32, i).toString("hex");
  const params =
    kdf === "pbkdf2"
      ? {function: "pbkdf2" as const, params: {dklen: 32, c: 2048, prf: "hmac-sha256" as const, salt}, message: ""}
      : {function: "scrypt" as const, params: {dklen: 32, n: 2048, r: 8, p: 1, salt}, message: ""};
  const keystore = await encryptKeystore(secret, pubkey, password, params as never, Buffer.alloc(16, i + 1), signingKeyPath(i));
  return {json: JSON.stringify(keystore), pubkey: "0x" + Buffer.from(pubkey).toString("hex")};
}

const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), `ts3signer-${prefix}-`));
const mode = (path: string) => statSync(path).mode & 0o777;

async function signsWith(s: TestSigner, pubkey: string): Promise<boolean> {
  const reply = await sign(s.url, pubkey, attestation.request);
  if (reply.status !== 200) return false;
  return verify(root, PublicKey.fromHex(pubkey), Signature.fromHex(reply.json().signature));
}

describe("start-up key sources", () => {
  it("loads keystores with per-key password files, and skips broken ones by file name", async () => {
    const dir = tmp("keystores");
    const passwords = tmp("passwords");
    const good = [await keystoreOf(1, "one", "scrypt"), await keystoreOf(2, "two\u0007")];
    writeFileSync(join(dir, "a.json"), good[0].json);
    writeFileSync(join(passwords, "a.txt"), "one\r\n"); // one trailing newline is not part of a password
    writeFileSync(join(dir, "b.json"), good[1].json);
    writeFileSync(join(passwords, "b.txt"), "two\u0007\n");
    writeFileSync(join(dir, "wrong-password.json"), (await keystoreOf(3, "three")).json);
    writeFileSync(join(passwords, "wrong-password.txt"), "not three");
    writeFileSync(join(dir, "no-password.json"), (await keystoreOf(4, "four")).json);
    writeFileSync(join(dir, "corrupt.json"), '{"crypto": ');
    writeFileSync(join(dir, "notes.txt"), "not a keystore");

    const s = await startTestSigner({network: "minimal", keystoresPath: dir, keystoresPasswordsPath: passwords});
    try {
      expect((await request(`${s.url}/api/v1/eth2/publicKeys`)).json().sort()).toEqual(good.map((k) => k.pubkey).sort());
      for (const k of good) expect(await signsWith(s, k.pubkey)).toBe(true);
      const skipped = s.lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "skipping keystore");
      expect(skipped.map((l) => [l.file, l.error]).sort()).toEqual([
        ["corrupt.json", expect.stringMatching(/not JSON/)],
        ["no-password.json", "no password file for it"],
        ["wrong-password.json", "wrong password (checksum mismatch)"],
      ]);
      expect((await request(`${s.url}/healthcheck`)).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it("loads keystores sharing one password file, and reloads when files change", async () => {
    const dir = tmp("keystores");
    const passwordFile = join(tmp("pw"), "password.txt");
    writeFileSync(passwordFile, "shared\n");
    const k1 = await keystoreOf(11, "shared");
    const k2 = await keystoreOf(12, "shared");
    writeFileSync(join(dir, "k1.json"), k1.json);
    const s = await startTestSigner({network: "minimal", keystoresPath: dir, keystoresPasswordFile: passwordFile});
    try {
      expect((await request(`${s.url}/api/v1/eth2/publicKeys`)).json()).toEqual([k1.pubkey]);
      writeFileSync(join(dir, "k2.json"), k2.json);
      rmSync(join(dir, "k1.json"));
      expect((await request(`${s.url}/reload`, {method: "POST"})).status).toBe(202);
      let status: {status?: string} | undefined;
      for (let i = 0; i < 100 && status?.status !== "completed"; i++) {
        await new Promise((r) => setTimeout(r, 50));
        status = (await request(`${s.url}/reload`)).json();
      }
      expect(status).toMatchObject({status: "completed", keys_loaded: 1, keys_removed: 1});
      expect((await request(`${s.url}/api/v1/eth2/publicKeys`)).json()).toEqual([k2.pubkey]);
      expect(await signsWith(s, k2.pubkey)).toBe(true);
      expect((await sign(s.url, k1.pubkey, attestation.request)).status).toBe(404);
    } finally {
      await s.close();
    }
  });

  it("derives EIP-2334 keys from a mnemonic file", async () => {
    const mnemonic = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    const file = join(tmp("mnemonic"), "mnemonic.txt");
    writeFileSync(file, mnemonic + "\n");
    const s = await startTestSigner({network: "minimal", mnemonicFile: file, mnemonicStart: 2, mnemonicCount: 3});
    try {
      const {mnemonicToSeed} = await import("../src/keys/mnemonic.js");
      const seed = mnemonicToSeed(mnemonic);
      const expected = [2, 3, 4].map((i) =>
        SecretKey.fromBytes(deriveSecretKey(seed, signingKeyPath(i)))
          .toPublicKey()
          .toHex()
      );
      expect((await request(`${s.url}/api/v1/eth2/publicKeys`)).json().sort()).toEqual(expected.sort());
      for (const pk of expected) expect(await signsWith(s, pk)).toBe(true);
    } finally {
      await s.close();
    }
  });

  it.each([
    [{keystoresPath: "/tmp"}, /--keystores-path needs --keystores-passwords-path/],
    [{keystoresPath: "/tmp", keystoresPasswordFile: "a", keystoresPasswordsPath: "b"}, /not both/],
    [{mnemonicFile: "/tmp/m"}, /--mnemonic-file needs --mnemonic-count/],
    [{keymanagerTokenFile: "/tmp/t"}, /--keymanager-token-file needs --data-dir/],
  ])("refuses inconsistent flags (%#)", async (config, message) => {
    await expect(startTestSigner(config)).rejects.toThrow(message);
  });
});

describe("Keymanager API", () => {
  let s: TestSigner;
  let dataDir: string;
  /** Log lines of signers already stopped in this suite. */
  const earlierLogs: string[] = [];
  let token: string;
  const auth = () => ({authorization: `Bearer ${token}`, "content-type": "application/json"});
  const keymanager = (method: string, body?: object, headers: Record<string, string> = auth()) =>
    request(`${s.url}/eth/v1/keystores`, {method, headers, body: body && JSON.stringify(body)});

  beforeAll(async () => {
    dataDir = tmp("data");
    s = await startTestSigner({network: "minimal", interopKeys: "1", dataDir});
    token = readFileSync(join(dataDir, "api-token.txt"), "utf8").trim();
  });
  afterAll(() => s.close());

  it("creates a 64-hex-digit token file, mode 0600", () => {
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(mode(join(dataDir, "api-token.txt"))).toBe(0o600);
  });

  it("answers 401 without the token or with a wrong one", async () => {
    for (const headers of [{}, {authorization: "Bearer nope"}, {authorization: token}, {authorization: `Basic ${token}`}]) {
      const reply = await keymanager("GET", undefined, headers as Record<string, string>);
      expect(reply.status).toBe(401);
      expect(reply.json().message).toMatch(/bearer token/);
    }
    expect((await keymanager("POST", {keystores: [], passwords: []}, {authorization: "Bearer x"})).status).toBe(401);
  });

  it("lists start-up keys as read-only", async () => {
    const reply = await keymanager("GET");
    expect(reply.status).toBe(200);
    expect(reply.json().data).toEqual([{validating_pubkey: expect.stringMatching(/^0xa99a76ed/), derivation_path: "", readonly: true}]);
  });

  let imported: {json: string; pubkey: string}[];
  it("imports keystores: imported, duplicate and error per item, the rest still imported", async () => {
    imported = [await keystoreOf(21, "p21"), await keystoreOf(22, "p22", "scrypt")];
    const wrong = await keystoreOf(23, "p23");
    const reply = await keymanager("POST", {
      keystores: [imported[0].json, imported[1].json, imported[0].json, wrong.json, "{}"],
      passwords: ["p21", "p22", "p21", "bad", "x"],
    });
    expect(reply.status).toBe(200);
    expect(reply.json().data).toEqual([
      {status: "imported"},
      {status: "imported"},
      {status: "duplicate"},
      {status: "error", message: "wrong password (checksum mismatch)"},
      {status: "error", message: expect.stringMatching(/not an EIP-2335 keystore/)},
    ]);
    // Usable at once.
    for (const k of imported) expect(await signsWith(s, k.pubkey)).toBe(true);
    const listed = (await keymanager("GET")).json().data;
    expect(listed).toContainEqual({validating_pubkey: imported[0].pubkey, derivation_path: "m/12381/3600/21/0/0", readonly: false});
  });

  it("stores imported keys in the data dir, 0600", () => {
    for (const k of imported) {
      expect(mode(join(dataDir, "keystores", `${k.pubkey}.json`))).toBe(0o600);
      expect(mode(join(dataDir, "passwords", `${k.pubkey}.txt`))).toBe(0o600);
    }
    // Nothing half-written left behind.
    expect(readdirSync(join(dataDir, "keystores")).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("says so when an import brings slashing protection history and this signer keeps none", async () => {
    const k = await keystoreOf(24, "p24");
    const history = {metadata: {interchange_format_version: "5", genesis_validators_root: "0x" + "00".repeat(32)}, data: []};
    const reply = await keymanager("POST", {keystores: [k.json], passwords: ["p24"], slashing_protection: JSON.stringify(history)});
    expect(reply.status).toBe(200);
    expect(reply.json().data).toEqual([
      {status: "imported", message: expect.stringMatching(/history was not kept: this signer runs without slashing protection/)},
    ]);
    expect(s.lines.some((l) => l.includes("slashing_protection sent with an import was not kept"))).toBe(true);
    // A document that is not an interchange is still refused, and nothing is imported.
    const other = await keystoreOf(25, "p25");
    const bad = await keymanager("POST", {keystores: [other.json], passwords: ["p25"], slashing_protection: "{"});
    expect(bad.status).toBe(400);
    expect(await signsWith(s, other.pubkey)).toBe(false);
    // Leave the signer's keys as the tests below expect them.
    expect((await keymanager("DELETE", {pubkeys: [k.pubkey]})).json().data).toEqual([{status: "deleted"}]);
  });

  it("rejects malformed bodies with 400", async () => {
    expect((await keymanager("POST", {keystores: ["a"], passwords: []})).json().message).toMatch(/differ in length/);
    expect((await keymanager("POST", {keystores: "a", passwords: []})).status).toBe(400);
    expect((await keymanager("DELETE", {pubkeys: [1]})).status).toBe(400);
    const bad = await request(`${s.url}/eth/v1/keystores`, {method: "POST", headers: auth(), body: "{"});
    expect([bad.status, bad.json().message]).toEqual([400, expect.stringMatching(/malformed JSON/)]);
    // SPEC: a request object with a duplicate key is a 400 (JSON.parse would keep the last one quietly).
    const twice = await request(`${s.url}/eth/v1/keystores`, {
      method: "DELETE",
      headers: auth(),
      body: '{"pubkeys": [], "pubkeys": ["0x00"]}',
    });
    expect([twice.status, twice.json().message]).toEqual([400, 'duplicate key "pubkeys": each key may appear once in an object']);
  });

  it("keeps imported keys across a restart", async () => {
    await s.close();
    earlierLogs.push(...s.lines);
    s = await startTestSigner({network: "minimal", interopKeys: "1", dataDir});
    expect((await readFileSync(join(dataDir, "api-token.txt"), "utf8")).trim()).toBe(token);
    for (const k of imported) expect(await signsWith(s, k.pubkey)).toBe(true);
    expect((await keymanager("GET")).json().data.filter((k: {readonly: boolean}) => !k.readonly)).toHaveLength(2);
  });

  it("deletes keys: 404 at once, files gone, EIP-3076 interchange returned", async () => {
    const readonlyKey = (await keymanager("GET")).json().data.find((k: {readonly: boolean}) => k.readonly).validating_pubkey;
    const unknown = "0x" + "ab".repeat(48);
    const reply = await keymanager("DELETE", {pubkeys: [imported[0].pubkey.toUpperCase().replace("0X", "0x"), unknown, readonlyKey]});
    expect(reply.status).toBe(200);
    const body = reply.json();
    expect(body.data).toEqual([{status: "deleted"}, {status: "not_found"}, {status: "error", message: expect.stringMatching(/read-only/)}]);
    const interchange = JSON.parse(body.slashing_protection);
    expect(interchange.metadata).toEqual({interchange_format_version: "5", genesis_validators_root: "0x" + "00".repeat(32)});
    expect(interchange.data).toEqual([{pubkey: imported[0].pubkey, signed_blocks: [], signed_attestations: []}]);

    expect((await sign(s.url, imported[0].pubkey, attestation.request)).status).toBe(404);
    expect(await signsWith(s, imported[1].pubkey)).toBe(true);
    expect(await signsWith(s, readonlyKey)).toBe(true);
    const files = [...readdirSync(join(dataDir, "keystores")), ...readdirSync(join(dataDir, "passwords"))];
    expect(files.some((f) => f.startsWith(imported[0].pubkey))).toBe(false);
    expect(files.some((f) => f.startsWith(imported[1].pubkey))).toBe(true);
  });

  it("never logs a token, password or secret key", () => {
    const log = [...earlierLogs, ...s.lines].join("\n");
    expect(log).not.toContain(token);
    for (const secret of [
      "p21",
      "p22",
      Buffer.from(interopSecretKey(21)).toString("hex"),
      Buffer.from(interopSecretKey(0)).toString("hex"),
    ]) {
      expect(log).not.toContain(secret);
    }
    expect(log).toMatch(/key imported/);
    expect(log).toMatch(/key deleted/);
  });
});
