// A replica's half of test/keyFiles.test.ts's races: on each line "N" from stdin it writes its own
// pair for one key (keystore "K <id> N", password "P <id> N"), or with the id "delete" removes the
// pair as a Keymanager DELETE does, and answers "N".
import {createInterface} from "node:readline";

const [dataDir, pubkey, id] = process.argv.slice(2);
const {removeKeyPair, writeKeyPair} = await import(new URL("../../dist/src/keys/keyPair.js", import.meta.url).href);
for await (const line of createInterface({input: process.stdin})) {
  if (id === "delete") await removeKeyPair(dataDir, pubkey, (file, e) => process.stderr.write(`${file}: ${e.message}\n`));
  else await writeKeyPair(dataDir, pubkey, `K ${id} ${line}`, `P ${id} ${line}`);
  process.stdout.write(`${line}\n`);
}
