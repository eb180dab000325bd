/**
 * Pure: the installed charging profiles of a one-connector charge point. Checks a profile against
 * the rules of OCPP 1.6 §3.13 / §5.16 before it is stored, replaces by id or by
 * (connector, purpose, stackLevel), clears by criteria, and drops TxProfiles when a transaction ends.
 */
import type { ChargingProfile } from '../types.js';

export type { ChargingProfile };

export interface InstalledProfile {
  /** 0 = the whole charge point, 1 = the BS20's connector. */
  connectorId: number;
  profile: ChargingProfile;
  /** Epoch ms; the schedule start of an Absolute/Recurring profile sent without startSchedule. */
  installedAt: number;
}

export interface ProfileLimits {
  /** ChargeProfileMaxStackLevel. */
  maxStackLevel: number;
  /** ChargingScheduleMaxPeriods. */
  maxPeriods: number;
  /** MaxChargingProfilesInstalled. */
  maxProfiles: number;
}

export interface ProfileCheckContext {
  limits: ProfileLimits;
  /** The open transaction's id (null: none, or StartTransaction not answered yet). */
  transactionId: number | null;
  transactionOpen: boolean;
}

/** Why a profile is refused, or null when it may be installed. */
export function checkProfile(
  connectorId: number,
  profile: ChargingProfile,
  ctx: ProfileCheckContext,
): string | null {
  if (connectorId !== 0 && connectorId !== 1) return `connector ${connectorId} does not exist (only 0 and 1)`;
  const purpose = profile.chargingProfilePurpose;
  if (purpose === 'ChargePointMaxProfile' && connectorId !== 0)
    return 'ChargePointMaxProfile only on connector 0';
  if (purpose === 'TxProfile') {
    if (connectorId === 0) return 'TxProfile needs connector 1';
    if (!ctx.transactionOpen) return 'TxProfile needs a running transaction';
    if (
      profile.transactionId !== undefined &&
      ctx.transactionId !== null &&
      profile.transactionId !== ctx.transactionId
    ) {
      return `transaction ${profile.transactionId} is not running`;
    }
  }
  if (
    !Number.isInteger(profile.stackLevel) ||
    profile.stackLevel < 0 ||
    profile.stackLevel > ctx.limits.maxStackLevel
  ) {
    return `stackLevel must be 0…${ctx.limits.maxStackLevel}`;
  }
  if (profile.chargingProfileKind === 'Recurring' && profile.recurrencyKind === undefined) {
    return 'a Recurring profile needs recurrencyKind';
  }
  for (const field of ['validFrom', 'validTo'] as const) {
    const value = profile[field];
    if (value !== undefined && !Number.isFinite(Date.parse(value))) return `${field} is not a date`;
  }
  const schedule = profile.chargingSchedule;
  if (schedule.startSchedule !== undefined && !Number.isFinite(Date.parse(schedule.startSchedule))) {
    return 'startSchedule is not a date';
  }
  const periods = schedule.chargingSchedulePeriod;
  if (periods.length === 0) return 'the schedule has no periods';
  if (periods.length > ctx.limits.maxPeriods) return `at most ${ctx.limits.maxPeriods} periods`;
  let previous = -1;
  for (const period of periods) {
    if (!(period.startPeriod > previous)) return 'startPeriod values must be increasing';
    if (!(period.limit >= 0)) return 'a limit must not be negative';
    previous = period.startPeriod;
  }
  if (schedule.duration !== undefined && schedule.duration <= 0) return 'duration must be positive';
  return null;
}

/** The list with `entry` added: same id, or same connector + purpose + stackLevel, is replaced. */
export function installProfile(
  list: readonly InstalledProfile[],
  entry: InstalledProfile,
): InstalledProfile[] {
  const p = entry.profile;
  const kept = list.filter(
    (e) =>
      e.profile.chargingProfileId !== p.chargingProfileId &&
      !(
        e.connectorId === entry.connectorId &&
        e.profile.chargingProfilePurpose === p.chargingProfilePurpose &&
        e.profile.stackLevel === p.stackLevel
      ),
  );
  return [...kept, entry];
}

/** Room for `entry` under MaxChargingProfilesInstalled (a replacement takes no extra room). */
export function hasRoomFor(
  list: readonly InstalledProfile[],
  entry: InstalledProfile,
  maxProfiles: number,
): boolean {
  return installProfile(list, entry).length <= maxProfiles;
}

export interface ClearCriteria {
  id?: number;
  connectorId?: number;
  chargingProfilePurpose?: ChargingProfile['chargingProfilePurpose'];
  stackLevel?: number;
}

/** ClearChargingProfile: by id when given, else every profile matching all the given fields. */
export function clearProfiles(
  list: readonly InstalledProfile[],
  criteria: ClearCriteria,
): { kept: InstalledProfile[]; removed: number } {
  const matches = (e: InstalledProfile): boolean => {
    if (criteria.id !== undefined) return e.profile.chargingProfileId === criteria.id;
    if (criteria.connectorId !== undefined && e.connectorId !== criteria.connectorId) return false;
    if (
      criteria.chargingProfilePurpose !== undefined &&
      e.profile.chargingProfilePurpose !== criteria.chargingProfilePurpose
    ) {
      return false;
    }
    if (criteria.stackLevel !== undefined && e.profile.stackLevel !== criteria.stackLevel) return false;
    return true;
  };
  const kept = list.filter((e) => !matches(e));
  return { kept, removed: list.length - kept.length };
}

/** TxProfiles live only as long as their transaction (§3.13.4). */
export function withoutTxProfiles(list: readonly InstalledProfile[]): InstalledProfile[] {
  return list.filter((e) => e.profile.chargingProfilePurpose !== 'TxProfile');
}
