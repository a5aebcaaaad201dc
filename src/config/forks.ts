/** The consensus forks, oldest first: what a network config schedules and a genesis state is laid out by. */
export const forkNames = ["phase0", "altair", "bellatrix", "capella", "deneb", "electra", "fulu"] as const;
export type ForkName = (typeof forkNames)[number];
