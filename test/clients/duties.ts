/**
 * What a validator signs in each fork, as Lodestar's SSZ values, with the signing root the consensus
 * specs give for it, computed here with Lodestar's config and types: the signer shares no code with
 * them, so a signature that verifies against this root is the right one.
 *
 * The chain is mainnet, or with Lodestar's minimal preset (LODESTAR_PRESET=minimal, read by Lodestar
 * at import) a devnet with a fork every two epochs, as test networks are set up.
 */

import type {Type} from "@chainsafe/ssz";
import {createBeaconConfig} from "@lodestar/config";
import {mainnetChainConfig, minimalChainConfig} from "@lodestar/config/configs";
import * as P from "@lodestar/params";
import {ssz} from "@lodestar/types";
import {randomValue} from "../helpers/oracle.js";
import {computeDomain, hex, rng} from "../helpers/reference.js";

const devnet = P.ACTIVE_PRESET === "minimal";
const chainConfig = devnet
  ? {
      ...minimalChainConfig,
      ALTAIR_FORK_EPOCH: 2,
      BELLATRIX_FORK_EPOCH: 4,
      CAPELLA_FORK_EPOCH: 6,
      DENEB_FORK_EPOCH: 8,
      ELECTRA_FORK_EPOCH: 10,
      FULU_FORK_EPOCH: 12,
    }
  : mainnetChainConfig;
const genesisValidatorsRootHex = devnet ? "0x" + "5e".repeat(32) : "0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95";
export const config = createBeaconConfig(chainConfig, Buffer.from(genesisValidatorsRootHex.slice(2), "hex"));

/** The signer's `--network` for this chain: `mainnet`, or the devnet's config YAML. */
export const networkYaml = devnet
  ? [
      "PRESET_BASE: minimal",
      ...(["GENESIS", "ALTAIR", "BELLATRIX", "CAPELLA", "DENEB", "ELECTRA", "FULU"] as const).flatMap((name) => [
        `${name}_FORK_VERSION: ${hex(chainConfig[`${name}_FORK_VERSION`])}`,
        ...(name === "GENESIS" ? [] : [`${name}_FORK_EPOCH: ${chainConfig[`${name}_FORK_EPOCH`]}`]),
      ]),
    ].join("\n") + "\n"
  : undefined;
export const SLOTS_PER_EPOCH = P.SLOTS_PER_EPOCH;

export const forks = ["phase0", "altair", "bellatrix", "capella", "deneb", "electra", "fulu"] as const;
export type Fork = (typeof forks)[number];
export const forkIndex = (fork: string) => forks.indexOf(fork as Fork);
export const isPost = (fork: Fork, since: Fork) => forkIndex(fork) >= forkIndex(since);

export type DutyKind =
  | "randao"
  | "block"
  | "attestation"
  | "aggregationSlot"
  | "aggregate"
  | "syncMessage"
  | "syncSelection"
  | "contribution"
  | "exit"
  | "registration"
  | "deposit";

export type Duty = {
  name: string;
  kind: DutyKind;
  /** The fork of the chain when the client signs. */
  fork: Fork;
  /** The chain's current slot when the client signs. */
  slot: number;
  /** The message, as a Lodestar SSZ value (a number for randao's epoch and the aggregation slot). */
  value: any;
  /** The signing root the specs give for it. */
  root: Uint8Array;
};

const epochOf = (slot: number) => Math.floor(slot / SLOTS_PER_EPOCH);
const signingRoot = (objectRoot: Uint8Array, domain: Uint8Array) => ssz.phase0.SigningData.hashTreeRoot({objectRoot, domain});
const random = <T>(type: Type<T>, r: ReturnType<typeof rng>) => randomValue(type as Type<unknown>, r) as T;

/** A slot in the first epoch of each fork (phase0: epoch 1), so fork boundaries are crossed. */
export const slotIn = (fork: Fork) => (fork === "phase0" ? 1 : config.forks[fork].epoch) * SLOTS_PER_EPOCH + 5;

/** Every duty a validator may sign at `fork`, one of each, from a seeded generator. */
export function dutiesAt(fork: Fork, seed = forkIndex(fork) + 1): Duty[] {
  const r = rng(seed);
  const slot = slotIn(fork);
  const epoch = epochOf(slot);
  const out: Duty[] = [];
  const add = (kind: DutyKind, value: any, root: Uint8Array, name: string = kind) =>
    out.push({name: `${name} (${fork})`, kind, fork, slot, value, root});
  const domain = (type: Uint8Array) => config.getDomain(slot, type);
  const types = ssz[fork];

  add("randao", epoch, signingRoot(ssz.Epoch.hashTreeRoot(epoch), domain(P.DOMAIN_RANDAO)));

  if (fork === "phase0" || fork === "altair") {
    const block = random(ssz[fork].BeaconBlock as Type<any>, r);
    block.slot = slot;
    add("block", block, signingRoot(ssz[fork].BeaconBlock.hashTreeRoot(block), domain(P.DOMAIN_BEACON_PROPOSER)));
  } else {
    // Bodies from Bellatrix on hold byte lists the generator does not fill; clients send only the
    // header of these blocks, which is derived from the whole block all the same.
    const block = types.BeaconBlock.defaultValue() as any;
    Object.assign(block, {slot, proposerIndex: r.int(2 ** 20), parentRoot: r.bytes(32), stateRoot: r.bytes(32)});
    block.body.graffiti = r.bytes(32);
    block.body.randaoReveal = r.bytes(96);
    add("block", block, signingRoot((types.BeaconBlock as Type<any>).hashTreeRoot(block), domain(P.DOMAIN_BEACON_PROPOSER)));
  }

  const data = random(ssz.phase0.AttestationData, r);
  data.slot = slot;
  data.target.epoch = epoch;
  data.source.epoch = epoch - 1;
  add("attestation", data, signingRoot(ssz.phase0.AttestationData.hashTreeRoot(data), domain(P.DOMAIN_BEACON_ATTESTER)));

  add("aggregationSlot", slot, signingRoot(ssz.Slot.hashTreeRoot(slot), domain(P.DOMAIN_SELECTION_PROOF)));

  const aggregateType = types.AggregateAndProof as Type<any>;
  const aggregate = random(aggregateType, r);
  aggregate.aggregate.data = data;
  add("aggregate", aggregate, signingRoot(aggregateType.hashTreeRoot(aggregate), domain(P.DOMAIN_AGGREGATE_AND_PROOF)));

  if (isPost(fork, "altair")) {
    const blockRoot = r.bytes(32);
    add("syncMessage", {slot, beaconBlockRoot: blockRoot}, signingRoot(ssz.Root.hashTreeRoot(blockRoot), domain(P.DOMAIN_SYNC_COMMITTEE)));
    const selection = {slot, subcommitteeIndex: r.int(P.SYNC_COMMITTEE_SUBNET_COUNT)};
    add(
      "syncSelection",
      selection,
      signingRoot(ssz.altair.SyncAggregatorSelectionData.hashTreeRoot(selection), domain(P.DOMAIN_SYNC_COMMITTEE_SELECTION_PROOF))
    );
    const contribution = random(ssz.altair.ContributionAndProof, r);
    contribution.contribution.slot = slot;
    add(
      "contribution",
      contribution,
      signingRoot(ssz.altair.ContributionAndProof.hashTreeRoot(contribution), domain(P.DOMAIN_CONTRIBUTION_AND_PROOF))
    );
  }

  // config.getDomainForVoluntaryExit: the state's fork, pinned to Capella's from Deneb on (EIP-7044).
  const exitRoot = (exit: {epoch: number; validatorIndex: number}) =>
    signingRoot(ssz.phase0.VoluntaryExit.hashTreeRoot(exit), config.getDomainForVoluntaryExit(slot, exit.epoch * SLOTS_PER_EPOCH));
  const exit = {epoch, validatorIndex: r.int(2 ** 20)};
  add("exit", exit, exitRoot(exit));
  if (isPost(fork, "electra")) {
    // An exit made for an earlier epoch (in Capella: every client agrees on its root) signed now.
    const earlier = {epoch: config.forks.capella.epoch + 1, validatorIndex: r.int(2 ** 20)};
    add("exit", earlier, exitRoot(earlier), "exit for a Capella epoch");
  }

  if (fork === "bellatrix") {
    // Fork-independent: the builder domain (genesis version, zero root), signed once here.
    const registration = random(ssz.bellatrix.ValidatorRegistrationV1, r);
    const builderDomain = computeDomain(hex(P.DOMAIN_APPLICATION_BUILDER), chainConfig.GENESIS_FORK_VERSION, new Uint8Array(32));
    add("registration", registration, signingRoot(ssz.bellatrix.ValidatorRegistrationV1.hashTreeRoot(registration), builderDomain));
    const deposit = random(ssz.phase0.DepositMessage, r);
    const depositDomain = computeDomain(hex(P.DOMAIN_DEPOSIT), chainConfig.GENESIS_FORK_VERSION, new Uint8Array(32));
    add("deposit", deposit, signingRoot(ssz.phase0.DepositMessage.hashTreeRoot(deposit), depositDomain));
  }
  return out;
}

export const allDuties = forks.flatMap((fork) => dutiesAt(fork));

/** The fork of the chain at `epoch`, as the spec's Fork container (activation epoch). */
export function forkAtEpoch(epoch: number) {
  const info = config.getForkInfoAtEpoch(epoch);
  return {previous_version: hex(info.prevVersion), current_version: hex(info.version), epoch: String(info.epoch)};
}

/** The slot the duty's own epoch starts or lies in: what clients that key fork_info on the message use. */
export function messageSlot(duty: Duty): number {
  return duty.kind === "exit" ? duty.value.epoch * SLOTS_PER_EPOCH : duty.slot;
}

/** A copy of a block duty with fields of its block changed, and the root that block has. */
export function blockDuty(duty: Duty, changes: Record<string, unknown>): Duty {
  const type = ssz[duty.fork].BeaconBlock as Type<any>;
  const block = {...type.clone(duty.value), ...changes};
  const root = signingRoot(type.hashTreeRoot(block), config.getDomain(block.slot, P.DOMAIN_BEACON_PROPOSER));
  return {...duty, slot: block.slot, value: block, root};
}
