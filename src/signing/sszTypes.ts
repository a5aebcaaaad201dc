import {
  BitListType,
  BitVectorType,
  ByteVectorType,
  ContainerType,
  ListBasicType,
  ListCompositeType,
  type Type,
  UintBigintType,
  VectorCompositeType,
} from "@chainsafe/ssz";
import type {ForkName} from "../config/networks.js";
import {DEPOSIT_CONTRACT_TREE_DEPTH, type Preset, SYNC_COMMITTEE_SUBNET_COUNT} from "../config/presets.js";

/**
 * The SSZ containers a remote signer hashes, built for one preset. Field names are the JSON
 * (snake_case) names of the signing API, so the JSON walker maps keys one to one.
 *
 * Every uint64 is a bigint: the API allows the whole 0…2^64−1 range (published examples use values
 * above 2^53), which Lodestar's number-typed containers would round.
 */
export function createSszTypes(p: Preset) {
  const Uint64 = new UintBigintType(8);
  const Bytes4 = new ByteVectorType(4);
  const Bytes20 = new ByteVectorType(20);
  const Bytes32 = new ByteVectorType(32);
  const Bytes48 = new ByteVectorType(48);
  const Bytes96 = new ByteVectorType(96);

  const Checkpoint = new ContainerType({epoch: Uint64, root: Bytes32});
  const AttestationData = new ContainerType({
    slot: Uint64,
    index: Uint64,
    beacon_block_root: Bytes32,
    source: Checkpoint,
    target: Checkpoint,
  });
  const Attestation = new ContainerType({
    aggregation_bits: new BitListType(p.MAX_VALIDATORS_PER_COMMITTEE),
    data: AttestationData,
    signature: Bytes96,
  });
  const AggregateAndProof = new ContainerType({
    aggregator_index: Uint64,
    aggregate: Attestation,
    selection_proof: Bytes96,
  });

  const BeaconBlockHeader = new ContainerType({
    slot: Uint64,
    proposer_index: Uint64,
    parent_root: Bytes32,
    state_root: Bytes32,
    body_root: Bytes32,
  });
  const SignedBeaconBlockHeader = new ContainerType({message: BeaconBlockHeader, signature: Bytes96});
  const IndexedAttestation = new ContainerType({
    attesting_indices: new ListBasicType(Uint64, p.MAX_VALIDATORS_PER_COMMITTEE),
    data: AttestationData,
    signature: Bytes96,
  });
  const DepositData = new ContainerType({
    pubkey: Bytes48,
    withdrawal_credentials: Bytes32,
    amount: Uint64,
    signature: Bytes96,
  });
  const VoluntaryExit = new ContainerType({epoch: Uint64, validator_index: Uint64});

  const phase0BodyFields = {
    randao_reveal: Bytes96,
    eth1_data: new ContainerType({deposit_root: Bytes32, deposit_count: Uint64, block_hash: Bytes32}),
    graffiti: Bytes32,
    proposer_slashings: new ListCompositeType(
      new ContainerType({signed_header_1: SignedBeaconBlockHeader, signed_header_2: SignedBeaconBlockHeader}),
      p.MAX_PROPOSER_SLASHINGS
    ),
    attester_slashings: new ListCompositeType(
      new ContainerType({attestation_1: IndexedAttestation, attestation_2: IndexedAttestation}),
      p.MAX_ATTESTER_SLASHINGS
    ),
    attestations: new ListCompositeType(Attestation, p.MAX_ATTESTATIONS),
    deposits: new ListCompositeType(
      new ContainerType({proof: new VectorCompositeType(Bytes32, DEPOSIT_CONTRACT_TREE_DEPTH + 1), data: DepositData}),
      p.MAX_DEPOSITS
    ),
    voluntary_exits: new ListCompositeType(new ContainerType({message: VoluntaryExit, signature: Bytes96}), p.MAX_VOLUNTARY_EXITS),
  };
  const beaconBlock = <T extends ContainerType<any>>(body: T) =>
    new ContainerType({slot: Uint64, proposer_index: Uint64, parent_root: Bytes32, state_root: Bytes32, body});

  // Electra (EIP-7549): committee_bits moves the committee index out of AttestationData.
  const ElectraAttestation = new ContainerType({
    aggregation_bits: new BitListType(p.MAX_VALIDATORS_PER_COMMITTEE * p.MAX_COMMITTEES_PER_SLOT),
    data: AttestationData,
    signature: Bytes96,
    committee_bits: new BitVectorType(p.MAX_COMMITTEES_PER_SLOT),
  });
  const ElectraAggregateAndProof = new ContainerType({
    aggregator_index: Uint64,
    aggregate: ElectraAttestation,
    selection_proof: Bytes96,
  });
  const Phase0BeaconBlock = beaconBlock(new ContainerType(phase0BodyFields));
  const AltairBeaconBlock = beaconBlock(
    new ContainerType({
      ...phase0BodyFields,
      sync_aggregate: new ContainerType({
        sync_committee_bits: new BitVectorType(p.SYNC_COMMITTEE_SIZE),
        sync_committee_signature: Bytes96,
      }),
    })
  );

  // The types that change with the fork, each fork built from the one before it: a new fork is
  // one entry here (and one in forkNames) plus the types it changes.
  // Full blocks: phase0 and Altair only; from Bellatrix on, clients send the block's header.
  const phase0 = {
    AggregateAndProof: AggregateAndProof as AggregateAndProofType,
    BeaconBlock: Phase0BeaconBlock as BeaconBlockType | undefined,
  };
  const altair = {...phase0, BeaconBlock: AltairBeaconBlock};
  const bellatrix = {...altair, BeaconBlock: undefined};
  const capella = {...bellatrix};
  const deneb = {...capella};
  const electra = {...deneb, AggregateAndProof: ElectraAggregateAndProof};
  const fulu = {...electra};
  const byFork: Record<ForkName, typeof phase0> = {phase0, altair, bellatrix, capella, deneb, electra, fulu};

  return {
    byFork,
    Uint64,
    Bytes4,
    Bytes32,
    ForkInfo: new ContainerType({
      fork: new ContainerType({previous_version: Bytes4, current_version: Bytes4, epoch: Uint64}),
      genesis_validators_root: Bytes32,
    }),
    AttestationData,
    BeaconBlockHeader,
    VoluntaryExit,
    SyncCommitteeMessage: new ContainerType({beacon_block_root: Bytes32, slot: Uint64}),
    SyncAggregatorSelectionData: new ContainerType({slot: Uint64, subcommittee_index: Uint64}),
    ContributionAndProof: new ContainerType({
      aggregator_index: Uint64,
      contribution: new ContainerType({
        slot: Uint64,
        beacon_block_root: Bytes32,
        subcommittee_index: Uint64,
        aggregation_bits: new BitVectorType(p.SYNC_COMMITTEE_SIZE / SYNC_COMMITTEE_SUBNET_COUNT),
        signature: Bytes96,
      }),
      selection_proof: Bytes96,
    }),
    DepositMessage: new ContainerType({pubkey: Bytes48, withdrawal_credentials: Bytes32, amount: Uint64}),
    DepositRequestData: new ContainerType({
      pubkey: Bytes48,
      withdrawal_credentials: Bytes32,
      amount: Uint64,
      genesis_fork_version: Bytes4,
    }),
    ValidatorRegistration: new ContainerType({
      fee_recipient: Bytes20,
      gas_limit: Uint64,
      timestamp: Uint64,
      pubkey: Bytes48,
    }),
    Epoch: new ContainerType({epoch: Uint64}),
    Slot: new ContainerType({slot: Uint64}),
  };
}

export type SszTypes = ReturnType<typeof createSszTypes>;

/** What every fork's aggregate and block types share: what signing needs of them. */
export type AggregateAndProofType = Type<{aggregate: {data: {slot: bigint}}}>;
export type BeaconBlockType = Type<{slot: bigint}>;
