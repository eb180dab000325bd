/**
 * Everything the daemon needs from sessions, built in one place: the store in the data directory,
 * the tracker following every charger, the bridge requests, and the hooks Home Assistant and the
 * HTTP endpoint plug into. Keeps the composition root a list of parts, not a page of wiring.
 */
import type { ChargebridgeConfig } from '../config/index.js';
import type { Charger } from '../core/charger.js';
import type { Clock } from '../core/clock.js';
import type { StoreProblems } from '../core/store-problems.js';
import { UnsavedDataError } from '../core/unsaved-data.js';
import type { SessionHooks } from '../homeassistant/next-session.js';
import type { ChargerStateExtras } from '../homeassistant/state.js';
import type { SessionExportProvider, SessionMetricsProvider } from '../http/providers.js';
import type { Logger } from '../log.js';
import type { BridgeApi } from '../mqtt/bridge-api.js';
import type { FileProblem } from './durable-adapter.js';
import { exportText } from './export.js';
import { registerSessionRequests } from './requests.js';
import { SessionStore } from './store.js';
import { moveNestedSessionFilesUp } from './store-location.js';
import { type SessionEvent, SessionTracker } from './tracker.js';

export interface SessionServiceOptions {
  config: ChargebridgeConfig;
  chargers: readonly Charger[];
  bridgeApi: Pick<BridgeApi, 'register' | 'publishEvent'>;
  clock: Clock;
  logger: Logger;
  /** Where store problems stay until resolved (the bridge's problem sensor). */
  problems?: StoreProblems;
}

export interface SessionService {
  readonly tracker: SessionTracker;
  readonly store: SessionStore;
  /** For HomeAssistantExtension. */
  sessionFeatures(chargerId: string): { users: readonly string[]; currency: string | null };
  stateExtras(chargerId: string): ChargerStateExtras;
  sessionHooks(chargerId: string): SessionHooks;
  /** For the HTTP endpoint. */
  readonly metrics: SessionMetricsProvider;
  readonly export: SessionExportProvider;
  /** Session events and summary changes, for Home Assistant. */
  onSessionEvent(listener: (event: SessionEvent) => void): () => void;
  onChanged(listener: (chargerId: string) => void): () => void;
  /** A charger that appeared while running; it must already be in the `chargers` list passed in. */
  addCharger(charger: Charger): void;
  start(): void;
  stop(): Promise<void>;
}

export async function openSessionService(options: SessionServiceOptions): Promise<SessionService> {
  const { config, chargers, bridgeApi, clock, logger } = options;
  const log = logger.child({ component: 'sessions' });
  moveNestedSessionFilesUp(config.dataDir, log);
  // Problems found while opening come before MQTT is up: they are told at start(), once it is.
  const atOpen: FileProblem[] = [];
  let started = false;
  const tell = (problem: FileProblem) =>
    void bridgeApi.publishEvent('store_problem', null, { ...problem }).catch(() => undefined);
  const store = await SessionStore.open({
    dataDir: config.dataDir,
    timeZone: config.timezone,
    clock,
    logger: log,
    // A damaged store file was kept aside and the last good copy loaded: tell the user where.
    onProblem: (problem) => {
      options.problems?.add(problem);
      if (started) tell(problem);
      else atOpen.push(problem);
    },
    // A failed write is resolved once everything kept in memory is on disk.
    onWritesRecovered: () =>
      options.problems?.resolve((p) => p.kind === 'write_failed' && p.file.startsWith(store.dir)),
  });
  const tracker = new SessionTracker({
    store,
    chargers,
    users: config.users,
    tariff: config.tariff ?? null,
    timeZone: config.timezone,
    clock,
    logger: log,
  });
  registerSessionRequests(bridgeApi, {
    store,
    timeZone: config.timezone,
    chargers,
    currentSession: (id) => tracker.currentSession(id),
    clock,
  });
  const currency = config.tariff?.currency ?? null;
  return {
    tracker,
    store,
    sessionFeatures: () => ({ users: tracker.users.names(), currency }),
    stateExtras: (id) => tracker.summaryFor(id),
    sessionHooks: (id) => {
      // Only a BS20 has a user field of its own (`bs20_user_id`); other chargers get the user's name.
      const bs20 = chargers.find((c) => c.id === id)?.kind === 'bs20';
      return {
        userSelected: (user) => tracker.selectUser(id, user),
        stopRequested: () => tracker.noteStopRequested(id),
        chargerUserId: (user) => (bs20 ? tracker.users.chargerUserIdFor(user) : null),
      };
    },
    metrics: tracker,
    export: { exportSessions: (query) => exportText(store, query, config.timezone, clock.now()) },
    onSessionEvent: (listener) => {
      const offStarted = tracker.events.on('session_started', listener);
      const offCompleted = tracker.events.on('session_completed', listener);
      return () => {
        offStarted();
        offCompleted();
      };
    },
    onChanged: (listener) => tracker.events.on('changed', listener),
    addCharger: (charger) => tracker.addCharger(charger),
    start: () => {
      started = true;
      for (const problem of atOpen.splice(0)) tell(problem);
      tracker.start();
    },
    stop: async () => {
      await tracker.stop();
      // The last chance to write: what stays unwritten is named, with where the disk has it instead.
      const result = await store.flush();
      if (!result.saved) throw new UnsavedDataError('the session store', store.unsaved());
    },
  };
}
