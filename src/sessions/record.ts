/**
 * What one charging session looks like on disk, as zod schemas (the store validates every file it
 * reads with them) and the TypeScript types derived from them. Times are epoch ms; energy in kWh.
 */
import { z } from 'zod';

export const SESSIONS_FORMAT = 'chargebridge-sessions';
export const OPEN_SESSIONS_FORMAT = 'chargebridge-open-sessions';
export const STORE_VERSION = 1;

const epochMs = z.number().int().nonnegative();
const kwh = z.number().finite();

export const meterSampleSchema = z.object({ at: epochMs, meterKwh: kwh });

export const windowCostSchema = z.object({
  window: z.string(),
  pricePerKwh: z.number().finite(),
  energyKwh: kwh,
  cost: z.number().finite(),
});

export const sessionCostSchema = z.object({
  currency: z.string(),
  total: z.number().finite(),
  fee: z.number().finite(),
  energyKwh: kwh,
  byWindow: z.array(windowCostSchema),
});

export const noteSchema = z.object({ at: epochMs, text: z.string() });

/** A spell without energy inside a session (`to` null while it lasts); `reason` e.g. `fault`, `suspended_evse`. */
export const pauseSchema = z.object({ from: epochMs, to: epochMs.nullable(), reason: z.string() });

/** How the session's user was found. */
export const USER_SOURCES = ['id_tag', 'charger', 'selected'] as const;
export type UserSource = (typeof USER_SOURCES)[number];

export const sessionRecordSchema = z.object({
  /** Stable: `<charger>-<start, compact ISO UTC>` (a suffix when two start in the same second). */
  id: z.string().min(1),
  chargerId: z.string().min(1),
  /** The charger's own session id (BS20 chargeId, OCPP transactionId), when it has one. */
  chargerSessionId: z.string().nullable(),
  startedAt: epochMs,
  /** null while the session is open. */
  endedAt: epochMs.nullable(),
  /** Lifetime register when the session began / ended. */
  meterStartKwh: kwh.nullable(),
  meterStopKwh: kwh.nullable(),
  /** meterStop − meterStart (so far, while open). */
  energyKwh: kwh.nullable(),
  /** The register through the session, downsampled (see samples.ts); first = start, last = end. */
  samples: z.array(meterSampleSchema),
  peakPowerW: z.number().finite().nullable(),
  /** Highest phase current measured. */
  maxCurrentA: z.number().finite().nullable(),
  /** Configured user name, or null (nobody selected, or an unknown tag). */
  user: z.string().nullable(),
  userSource: z.enum(USER_SOURCES).nullable(),
  idTag: z.string().nullable(),
  /** false: the tag matched no configured user; null: no tag. */
  idTagKnown: z.boolean().nullable(),
  stopReason: z.string().nullable(),
  cost: sessionCostSchema.nullable(),
  notes: z.array(noteSchema),
  /** Added later: files written before have none (no pauses recorded). */
  pauses: z.array(pauseSchema).optional(),
});

export type SessionRecord = z.infer<typeof sessionRecordSchema>;
export type SessionNote = z.infer<typeof noteSchema>;
export type SessionPause = z.infer<typeof pauseSchema>;
export type StoredSessionCost = z.infer<typeof sessionCostSchema>;

export const sessionsFileSchema = z.object({
  format: z.literal(SESSIONS_FORMAT),
  version: z.literal(STORE_VERSION),
  sessions: z.array(sessionRecordSchema),
});
export type SessionsFile = z.infer<typeof sessionsFileSchema>;

export const openSessionsFileSchema = z.object({
  format: z.literal(OPEN_SESSIONS_FORMAT),
  version: z.literal(STORE_VERSION),
  sessions: z.array(sessionRecordSchema),
});
export type OpenSessionsFile = z.infer<typeof openSessionsFileSchema>;

/** Refuses files a newer chargebridge wrote instead of treating them as corrupt. */
export function refuseNewer(json: unknown): string | null {
  const version = (json as { version?: unknown } | null)?.version;
  return typeof version === 'number' && version > STORE_VERSION
    ? `it was written by a newer chargebridge (store version ${version}, this one reads ${STORE_VERSION}); upgrade chargebridge or restore a backup`
    : null;
}

/** `<charger>-20260115T120000Z` */
export function sessionIdFor(chargerId: string, startedAt: number): string {
  const stamp = new Date(startedAt).toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  return `${chargerId}-${stamp}`;
}
