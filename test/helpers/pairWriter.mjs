// A replica's half of test/keyFiles.test.ts's race: on each line "N" from stdin it writes its own
// pair for one key (keystore "K <id> N", password "P <id> N") and answers "N".
import {createInterface} from "node:readline";

const [dataDir, pubkey, id] = process.argv.slice(2);
const {writeKeyPair} = await import(new URL("../../dist/src/keys/keyPair.js", import.meta.url).href);
for await (const line of createInterface({input: process.stdin})) {
  await writeKeyPair(dataDir, pubkey, `K ${id} ${line}`, `P ${id} ${line}`);
  process.stdout.write(`${line}\n`);
}
