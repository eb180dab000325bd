/**
 * Stations let in by `unknown_stations: accept` are remembered in the data directory, so after a
 * restart they are chargers from the start (offline until they connect) with the same id, and Home
 * Assistant keeps their device and history instead of seeing it vanish and come back.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { moveAside, writeFileDurably } from '../../core/durable-file.js';
import type { Logger } from '../../log.js';

export const ACCEPTED_STATIONS_FILE = 'ocpp-accepted-stations.json';

export interface AcceptedStation {
  identity: string;
  /** The chargebridge id it got the first time (kept stable across restarts). */
  id: string;
  firstSeenAt: number;
}

const fileSchema = z.object({
  format: z.literal('chargebridge-ocpp-accepted-stations'),
  stations: z.array(
    z.object({
      identity: z.string().min(1),
      id: z.string().regex(/^[a-z0-9_]+$/),
      firstSeenAt: z.number(),
    }),
  ),
});

export class AcceptedStations {
  private readonly byIdentity = new Map<string, AcceptedStation>();
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly path: string,
    private readonly log: Logger,
  ) {}

  /** A missing file is an empty list; an unreadable one is moved aside and reported, never deleted. */
  static async open(options: { path: string; nowMs: number; logger: Logger }): Promise<AcceptedStations> {
    const store = new AcceptedStations(options.path, options.logger);
    let text: string;
    try {
      text = await readFile(options.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return store;
      throw new Error(`cannot read ${options.path}: ${(err as Error).message}`);
    }
    let parsed: z.infer<typeof fileSchema>;
    try {
      parsed = fileSchema.parse(JSON.parse(text));
    } catch (err) {
      const aside = await moveAside(options.path, options.nowMs);
      options.logger.error(
        { file: options.path, keptAs: aside, err: err instanceof Error ? err.message : String(err) },
        'the list of accepted OCPP stations is unreadable; kept aside, they will be accepted again as they connect',
      );
      return store;
    }
    for (const station of parsed.stations) store.byIdentity.set(station.identity, station);
    return store;
  }

  all(): AcceptedStation[] {
    return [...this.byIdentity.values()];
  }

  has(identity: string): boolean {
    return this.byIdentity.has(identity);
  }

  /** Remembers a station; resolves once it is on disk. */
  async add(station: AcceptedStation): Promise<void> {
    this.byIdentity.set(station.identity, station);
    await this.save();
  }

  /** Forgets a station (it disappears from Home Assistant at the next restart). */
  async remove(identity: string): Promise<boolean> {
    if (!this.byIdentity.delete(identity)) return false;
    await this.save();
    return true;
  }

  flush(): Promise<void> {
    return this.writing;
  }

  private save(): Promise<void> {
    const body = `${JSON.stringify(
      { format: 'chargebridge-ocpp-accepted-stations', stations: this.all() },
      null,
      2,
    )}\n`;
    // One write at a time, in order: the last one on disk is the newest list.
    this.writing = this.writing
      .catch(() => undefined)
      .then(() => writeFileDurably(this.path, body))
      .catch((err: unknown) => {
        this.log.error(
          { file: this.path, err: err instanceof Error ? err.message : String(err) },
          'could not save the list of accepted OCPP stations',
        );
        throw err;
      });
    return this.writing;
  }
}
