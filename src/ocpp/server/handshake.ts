/**
 * Who may open a websocket (ocpp.md §3 items 1, 11): the URL path must be ours, a configured
 * station must present its password under security profiles 1 and 2, and a station we do not know
 * is refused or let in according to the policy. Pure, apart from the password hash it checks.
 */
import type { StationDirectory } from './station-config.js';

export type SecurityProfile = 0 | 1 | 2;
export type UnknownStationPolicy = 'reject' | 'pending' | 'accept';

export type HandshakeVerdict =
  | { accept: true; known: boolean }
  | { accept: false; status: number; reason: string };

export interface HandshakeInput {
  /** URL path before the identity, as ocpp-rpc splits it. */
  endpoint: string;
  identity: string;
  /** Basic-auth password, present only when the user name equals the identity. */
  password: Buffer | undefined;
  /** Subprotocols the client offers (Sec-WebSocket-Protocol). */
  protocols: ReadonlySet<string>;
}

export interface HandshakeRules {
  pathPrefix: string;
  /** What we speak, e.g. `ocpp1.6`. */
  protocols: readonly string[];
  securityProfile: SecurityProfile;
  unknownStations: UnknownStationPolicy;
  directory: StationDirectory;
}

/** `/ocpp/` and `ocpp` both mean `/ocpp`; `/` means the root. */
export function normalisePath(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed === '' || trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

export function judgeHandshake(input: HandshakeInput, rules: HandshakeRules): HandshakeVerdict {
  if (normalisePath(input.endpoint) !== normalisePath(rules.pathPrefix) || input.identity === '') {
    return { accept: false, status: 404, reason: 'Not found' };
  }
  // A client offering only other versions (ocpp2.0.1…) is refused (OCTT TC_088); one offering none at
  // all is an old or sloppy 1.6 charger and gets in (ocpp-rpc would accept both without a word).
  if (input.protocols.size > 0 && !rules.protocols.some((p) => input.protocols.has(p))) {
    return {
      accept: false,
      status: 400,
      reason: `Unsupported subprotocol; this server speaks ${rules.protocols.join(', ')}`,
    };
  }
  const entry = rules.directory.get(input.identity);
  if (!entry) {
    return rules.unknownStations === 'reject'
      ? { accept: false, status: 404, reason: 'Unknown station' }
      : { accept: true, known: false };
  }
  if (rules.securityProfile >= 1 && !entry.password?.matches(input.password)) {
    return { accept: false, status: 401, reason: 'Unauthorized' };
  }
  return { accept: true, known: true };
}
