import {gnosisPreset} from "@lodestar/params/presets/gnosis";
import {mainnetPreset} from "@lodestar/params/presets/mainnet";
import {minimalPreset} from "@lodestar/params/presets/minimal";

/**
 * The preset values that change SSZ list/vector lengths (and so hash roots) of the messages a
 * signer hashes, and the layout of the genesis state it reads (src/config/genesisState.ts). Read from Lodestar's preset objects directly rather than from `@lodestar/params`'
 * active preset, which is fixed per process by an environment variable: one process can then
 * serve (and test) every preset.
 */
export type Preset = {
  SLOTS_PER_EPOCH: number;
  MAX_VALIDATORS_PER_COMMITTEE: number;
  MAX_COMMITTEES_PER_SLOT: number;
  MAX_PROPOSER_SLASHINGS: number;
  MAX_ATTESTER_SLASHINGS: number;
  MAX_ATTESTATIONS: number;
  MAX_DEPOSITS: number;
  MAX_VOLUNTARY_EXITS: number;
  SYNC_COMMITTEE_SIZE: number;
  SLOTS_PER_HISTORICAL_ROOT: number;
  EPOCHS_PER_HISTORICAL_VECTOR: number;
  EPOCHS_PER_SLASHINGS_VECTOR: number;
  MIN_SEED_LOOKAHEAD: number;
};

export type PresetName = "mainnet" | "minimal" | "gnosis";

function pick(p: Preset): Preset {
  return {
    SLOTS_PER_EPOCH: p.SLOTS_PER_EPOCH,
    MAX_VALIDATORS_PER_COMMITTEE: p.MAX_VALIDATORS_PER_COMMITTEE,
    MAX_COMMITTEES_PER_SLOT: p.MAX_COMMITTEES_PER_SLOT,
    MAX_PROPOSER_SLASHINGS: p.MAX_PROPOSER_SLASHINGS,
    MAX_ATTESTER_SLASHINGS: p.MAX_ATTESTER_SLASHINGS,
    MAX_ATTESTATIONS: p.MAX_ATTESTATIONS,
    MAX_DEPOSITS: p.MAX_DEPOSITS,
    MAX_VOLUNTARY_EXITS: p.MAX_VOLUNTARY_EXITS,
    SYNC_COMMITTEE_SIZE: p.SYNC_COMMITTEE_SIZE,
    SLOTS_PER_HISTORICAL_ROOT: p.SLOTS_PER_HISTORICAL_ROOT,
    EPOCHS_PER_HISTORICAL_VECTOR: p.EPOCHS_PER_HISTORICAL_VECTOR,
    EPOCHS_PER_SLASHINGS_VECTOR: p.EPOCHS_PER_SLASHINGS_VECTOR,
    MIN_SEED_LOOKAHEAD: p.MIN_SEED_LOOKAHEAD,
  };
}

export const presets: Record<PresetName, Preset> = {
  mainnet: pick(mainnetPreset),
  minimal: pick(minimalPreset),
  gnosis: pick(gnosisPreset),
};

export function isPresetName(name: string): name is PresetName {
  return Object.hasOwn(presets, name);
}

/** Spec constants that do not vary by preset. */
export const SYNC_COMMITTEE_SUBNET_COUNT = 4;
export const DEPOSIT_CONTRACT_TREE_DEPTH = 32;
