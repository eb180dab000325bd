/**
 * The broker conformance run (mqtt5-conformance.py, paho over MQTT 5 and 3.1.1) against the embedded
 * broker and a real Mosquitto, each with a login and anonymous, all four at once. The embedded broker
 * must pass every check in EXPECTED_TO_PASS; what it fails is listed in KNOWN_DIFFERENCES with the
 * reason. Prints the table (docs/mqtt-broker.md carries a copy) and where the two brokers differ.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerKind, embeddedBroker, mosquittoBroker, type TestBroker } from '../helpers/brokers.js';
import { has } from '../helpers/system-programs.js';
import { runJsonLines } from './python.js';

type Protocol = '5' | '3.1.1';
const BOTH: readonly Protocol[] = ['5', '3.1.1'];
const V5: readonly Protocol[] = ['5'];
const V311: readonly Protocol[] = ['3.1.1'];

interface CheckResult {
  name: string;
  protocol: Protocol;
  pass: boolean;
  detail: string;
  seconds: number;
}

/** What the embedded broker must pass; login-only checks are only run on the brokers with a login. */
const EXPECTED_TO_PASS: Record<string, readonly Protocol[]> = {
  pub_sub_qos0: BOTH,
  pub_sub_qos1: BOTH,
  pub_sub_qos2: BOTH,
  qos_downgrade: BOTH,
  empty_payload_delivered: BOTH,
  retained_on_subscribe: BOTH,
  retained_replace: BOTH,
  retained_clear_empty_payload: BOTH,
  retained_flag_on_live_delivery: BOTH,
  retain_as_published: V5,
  retain_handling_0: V5,
  retain_handling_1: V5,
  retain_handling_2: V5,
  no_local: V5,
  will_on_abrupt_disconnect: BOTH,
  will_not_on_clean_disconnect: BOTH,
  will_on_disconnect_with_will: V5,
  will_delay_cancelled_by_reconnect: V5,
  will_delay_interval: V5,
  will_at_session_end: V5,
  topic_alias_from_client: V5,
  session_offline_queue: BOTH,
  clean_start_discards_session: BOTH,
  session_expiry: V5,
  session_expiry_zero_default: V5,
  qos1_redelivery_after_reconnect: BOTH,
  overlapping_subscriptions: BOTH,
  wildcard_plus: BOTH,
  wildcard_hash: BOTH,
  dollar_topics_not_matched: BOTH,
  unsubscribe: BOTH,
  unsubscribe_unknown_reason_code: V5,
  invalid_topic_filter_refused: BOTH,
  keepalive_enforced: BOTH,
  server_keep_alive: V5,
  user_properties: V5,
  payload_format_and_content_type: V5,
  request_response: V5,
  message_expiry_forwarded: V5,
  message_expiry_retained: V5,
  message_expiry_queued: V5,
  assigned_client_identifier: BOTH,
  empty_client_id_persistent_refused: V311,
  bad_password_refused: BOTH,
  anonymous_refused: BOTH,
};

interface KnownDifference {
  protocols: readonly Protocol[];
  reason: string;
  /** Fails only some of the time (a race in the broker): passing once is reported, not a failure. */
  intermittent?: boolean;
}

/** What aedes 2.0.0-beta.1, as startEmbeddedBroker sets it up, fails, and why. */
const KNOWN_DIFFERENCES: Record<string, KnownDifference> = {
  redelivery_dup_flag: {
    protocols: BOTH,
    reason: 'aedes resends unacknowledged QoS 1/2 messages after a reconnect with DUP = 0 ([MQTT-3.3.1-1])',
  },
  qos2_persistent_session: {
    protocols: BOTH,
    reason:
      'QoS 2 to a subscriber with a persistent session: aedes answers PUBREC with a PUBREL for the wrong ' +
      'packet id now and then, so a message is never completed (lost for the client) and others reorder',
    intermittent: true,
  },
  qos2_redelivery_after_reconnect: {
    protocols: BOTH,
    reason: 'the same PUBREL mix-up on a persistent session loses one of the redelivered messages',
    intermittent: true,
  },
  subscription_identifiers: {
    protocols: V5,
    reason:
      'one copy for overlapping subscriptions carries only one of the matching subscription identifiers',
  },
  shared_subscriptions: {
    protocols: V5,
    reason:
      'not implemented in aedes 2.0.0-beta.1 (CONNACK says Shared Subscription Available 0; SUBACK 0x9E)',
  },
  maximum_packet_size: {
    protocols: V5,
    reason:
      "aedes sends a client packets larger than the client's Maximum Packet Size instead of dropping them",
  },
};

/** Where Mosquitto 2.0.11 itself departs from the specification, so its result does not judge the check. */
const MOSQUITTO_KNOWN: Record<string, KnownDifference> = {
  overlapping_subscriptions: {
    protocols: V311,
    reason:
      'Mosquitto 2.0 sends a 3.1.1 client one copy at the QoS of one matching subscription, not the highest ([MQTT-3.3.5-1])',
  },
};

const LOGIN = { username: 'conformance', password: 'c0nformance-pass' };

interface Run {
  label: string;
  broker: 'embedded' | 'mosquitto';
  login: boolean;
  results: CheckResult[];
}

const key = (name: string, protocol: Protocol) => `${name} (${protocol})`;
const listed = (list: Record<string, readonly Protocol[] | KnownDifference>, r: CheckResult) => {
  const entry = list[r.name];
  const protocols = entry === undefined ? [] : 'protocols' in entry ? entry.protocols : entry;
  return (protocols as readonly Protocol[]).includes(r.protocol);
};

describe.skipIf(!has('paho'))('MQTT conformance (paho, MQTT 5 and 3.1.1)', () => {
  const runs: Run[] = [];
  let seconds = 0;

  beforeAll(async () => {
    const setups: Array<{ kind: BrokerKind; broker: Run['broker']; login: boolean }> = [
      { kind: embeddedBroker, broker: 'embedded', login: true },
      { kind: embeddedBroker, broker: 'embedded', login: false },
    ];
    if (has('mosquitto')) {
      setups.push(
        { kind: mosquittoBroker, broker: 'mosquitto', login: true },
        { kind: mosquittoBroker, broker: 'mosquitto', login: false },
      );
    }
    const started: TestBroker[] = [];
    const startedAt = Date.now();
    try {
      // All four at once: the run is mostly waiting for broker timers (keepalive, expiry, will delay).
      const done = await Promise.all(
        setups.map(async (setup) => {
          const broker = await setup.kind.start(setup.login ? LOGIN : {});
          started.push(broker);
          const args = ['--port', String(broker.port)];
          if (setup.login) args.push('--username', LOGIN.username, '--password', LOGIN.password);
          const lines = await runJsonLines('mqtt5-conformance.py', args, 50_000);
          return {
            label: `${setup.broker === 'embedded' ? 'aedes 2 beta' : 'Mosquitto'} ${setup.login ? 'login' : 'anon'}`,
            broker: setup.broker,
            login: setup.login,
            results: lines as unknown as CheckResult[],
          };
        }),
      );
      runs.push(...done);
    } finally {
      await Promise.all(started.map((b) => b.stop()));
    }
    seconds = (Date.now() - startedAt) / 1000;
  }, 60_000);

  afterAll(() => {
    if (runs.length === 0) return;
    // For docs/mqtt-broker.md: CB_TEST_CONFORMANCE_OUT=results.json keeps every result.
    const out = process.env.CB_TEST_CONFORMANCE_OUT;
    if (out) writeFileSync(out, `${JSON.stringify({ seconds, runs }, null, 1)}\n`);
    console.log(summaryTable(runs, seconds));
    const differences = brokerDifferences(runs);
    console.log(
      differences.length === 0
        ? 'The embedded broker and Mosquitto agree on every check.'
        : `Where the embedded broker differs from Mosquitto:\n${differences.join('\n')}`,
    );
  });

  const embeddedRuns = () => runs.filter((r) => r.broker === 'embedded');

  it('runs every check, at both protocol versions, against each broker', () => {
    expect(runs.length).toBeGreaterThanOrEqual(2);
    const allChecks = new Set(runs.flatMap((r) => r.results.map((c) => key(c.name, c.protocol))));
    for (const run of runs) {
      const here = new Set(run.results.map((c) => key(c.name, c.protocol)));
      const missing = [...allChecks].filter(
        (k) => !here.has(k) && !(k.startsWith('bad_password_refused') || k.startsWith('anonymous_refused')),
      );
      expect(missing, `${run.label} did not report`).toEqual([]);
      if (run.login) expect(here.has(key('bad_password_refused', '5'))).toBe(true);
    }
    // Both versions really ran: at least the basics at 3.1.1 next to MQTT 5.
    expect(allChecks.has(key('pub_sub_qos2', '3.1.1'))).toBe(true);
    expect(allChecks.has(key('pub_sub_qos2', '5'))).toBe(true);
  });

  it('lists every check either as expected to pass or as a known difference', () => {
    const unlisted = embeddedRuns()
      .flatMap((run) => run.results)
      .filter((r) => !listed(EXPECTED_TO_PASS, r) && !listed(KNOWN_DIFFERENCES, r))
      .map((r) => key(r.name, r.protocol));
    expect([...new Set(unlisted)], 'add new checks to EXPECTED_TO_PASS or KNOWN_DIFFERENCES').toEqual([]);
    const both = Object.keys(EXPECTED_TO_PASS).filter((name) => name in KNOWN_DIFFERENCES);
    expect(both).toEqual([]);
  });

  it('the embedded broker passes every check in EXPECTED_TO_PASS, with a login and anonymous', () => {
    const failed = embeddedRuns().flatMap((run) =>
      run.results
        .filter((r) => listed(EXPECTED_TO_PASS, r) && !r.pass)
        .map((r) => `${run.label}: ${key(r.name, r.protocol)}: ${r.detail}`),
    );
    expect(failed).toEqual([]);
  });

  it('the known differences still fail on the embedded broker (one that passes belongs in EXPECTED_TO_PASS)', () => {
    const nowPassing = embeddedRuns().flatMap((run) =>
      run.results
        .filter((r) => listed(KNOWN_DIFFERENCES, r) && r.pass)
        .map((r) => ({
          run: run.label,
          check: key(r.name, r.protocol),
          intermittent: KNOWN_DIFFERENCES[r.name]?.intermittent,
        })),
    );
    for (const p of nowPassing.filter((x) => x.intermittent)) {
      console.log(`note: known intermittent difference passed this time: ${p.run}: ${p.check}`);
    }
    expect(nowPassing.filter((x) => !x.intermittent).map((x) => `${x.run}: ${x.check}`)).toEqual([]);
  });

  it.skipIf(!has('mosquitto'))(
    'Mosquitto passes every check but its own known deviations (the checks are right)',
    () => {
      const failed = runs
        .filter((run) => run.broker === 'mosquitto')
        .flatMap((run) =>
          run.results
            .filter((r) => !r.pass && !listed(MOSQUITTO_KNOWN, r))
            .map((r) => `${run.label}: ${key(r.name, r.protocol)}: ${r.detail}`),
        );
      expect(failed).toEqual([]);
    },
  );
});

function summaryTable(runs: readonly Run[], seconds: number): string {
  const rows = new Map<string, { name: string; protocol: Protocol }>();
  for (const run of runs) for (const r of run.results) rows.set(key(r.name, r.protocol), r);
  const ordered = [...rows.values()].sort(
    (a, b) => a.name.localeCompare(b.name) || b.protocol.localeCompare(a.protocol),
  );
  const header = ['check', 'MQTT', ...runs.map((r) => r.label), 'embedded broker'];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const { name, protocol } of ordered) {
    const cells = runs.map((run) => {
      const r = run.results.find((x) => x.name === name && x.protocol === protocol);
      return r === undefined ? '–' : r.pass ? 'pass' : '**fail**';
    });
    const probe = { name, protocol } as CheckResult;
    const status = listed(EXPECTED_TO_PASS, probe)
      ? 'expected to pass'
      : listed(KNOWN_DIFFERENCES, probe)
        ? `known difference${KNOWN_DIFFERENCES[name]?.intermittent ? ' (intermittent)' : ''}`
        : 'unlisted';
    lines.push(`| ${name} | ${protocol} | ${cells.join(' | ')} | ${status} |`);
  }
  const counts = runs.map(
    (run) => `${run.label} ${run.results.filter((r) => r.pass).length}/${run.results.length}`,
  );
  return `MQTT conformance, ${seconds.toFixed(1)} s for all runs (${counts.join(', ')}):\n${lines.join('\n')}`;
}

/** Checks whose result on the embedded broker differs from Mosquitto's with the same login setting. */
function brokerDifferences(runs: readonly Run[]): string[] {
  const found = new Map<string, { setups: string[]; embedded: CheckResult; mosquitto: CheckResult }>();
  for (const embedded of runs.filter((r) => r.broker === 'embedded')) {
    const mosquitto = runs.find((r) => r.broker === 'mosquitto' && r.login === embedded.login);
    if (!mosquitto) continue;
    for (const e of embedded.results) {
      const m = mosquitto.results.find((x) => x.name === e.name && x.protocol === e.protocol);
      if (!m || m.pass === e.pass) continue;
      const k = `${key(e.name, e.protocol)}: embedded ${e.pass ? 'passes' : 'fails'}, Mosquitto ${m.pass ? 'passes' : 'fails'}`;
      const entry = found.get(k) ?? { setups: [], embedded: e, mosquitto: m };
      entry.setups.push(embedded.login ? 'login' : 'anonymous');
      found.set(k, entry);
    }
  }
  return [...found].map(([k, { setups, embedded: e, mosquitto: m }]) => {
    const reason = e.pass ? MOSQUITTO_KNOWN[e.name]?.reason : KNOWN_DIFFERENCES[e.name]?.reason;
    return `- ${k} [${setups.join(', ')}]: ${reason ?? 'no reason listed'}\n    embedded: ${e.detail}\n    Mosquitto: ${m.detail}`;
  });
}
