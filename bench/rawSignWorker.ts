/** Signs in a loop for `seconds` and reports how many signatures it made (the blst ceiling). */
import {parentPort, workerData} from "node:worker_threads";
import {SecretKey} from "@chainsafe/blst";

const {seconds} = workerData as {seconds: number};
const key = SecretKey.fromBytes(Buffer.alloc(32, 7));
const message = new Uint8Array(32);
const deadline = performance.now() + seconds * 1000;
let count = 0;
while (performance.now() < deadline) {
  for (let i = 0; i < 16; i++) {
    message[0] = count & 0xff;
    key.sign(message);
    count++;
  }
}
parentPort!.postMessage(count);
