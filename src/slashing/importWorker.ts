/**
 * One interchange import on a thread of its own (SlashingStore.importOffThread): parsing and
 * merging a year of one key's history is seconds of CPU, and SQLite's calls block their thread.
 * It opens its own connection, imports, answers once, and ends.
 */
import {parentPort, workerData} from "node:worker_threads";
import {SignerError} from "../errors.js";
import {parseInterchange} from "./interchange.js";
import {type ImportAnswer, SlashingStore} from "./store.js";

const {url, text} = workerData as {url: string; text: string};
let answer: ImportAnswer;
const store = await SlashingStore.open(url).catch((e: Error) => e);
if (store instanceof Error) {
  answer = {error: {code: "UNAVAILABLE", message: `slashing protection database unavailable: ${store.message}`}};
} else {
  try {
    answer = {slashable: [...(await store.importInterchange(parseInterchange(text)))]};
  } catch (e) {
    answer = {
      error:
        e instanceof SignerError
          ? {code: e.code, message: e.message}
          : {code: "UNAVAILABLE", message: `slashing protection import failed: ${(e as Error).message}`},
    };
  } finally {
    await store.close();
  }
}
parentPort!.postMessage(answer);
