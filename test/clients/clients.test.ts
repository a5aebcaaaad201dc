// Each validator client's requests on mainnet (see suite.ts).
import {defineClientTests} from "./suite.js";

defineClientTests("mainnet");
