/**
 * Who may charge: the answer to Authorize, StartTransaction and StopTransaction idTags (ocpp.md §3
 * item 5). Tags are compared without case or surrounding spaces (CiString20). The daemon wires the
 * configured users in; tests pass their own.
 */
import type { IdTagInfo } from '../types.js';

export interface IdTagDecision {
  idTagInfo: IdTagInfo;
  /** The configured user the tag belongs to, or null. */
  user: string | null;
}

export interface IdTagAuthorizer {
  authorize(idTag: string): IdTagDecision;
  /** The tag to send in RemoteStartTransaction for a configured user (null: the user has none). */
  idTagForUser(user: string): string | null;
  /** The tag for a remote start with nobody selected. */
  readonly defaultIdTag: string;
}

export interface UserTags {
  name: string;
  idTags?: readonly string[];
}

export interface UserAuthorizerOptions {
  users: readonly UserTags[];
  /** Our own tag for remote starts (always accepted). */
  defaultIdTag: string;
  /** Accept tags no user owns (they charge, and the session is recorded with an unknown tag). */
  acceptUnknown: boolean;
}

const key = (tag: string) => tag.trim().toUpperCase();

export function createUserAuthorizer(options: UserAuthorizerOptions): IdTagAuthorizer {
  const owners = new Map<string, string>();
  for (const user of options.users) for (const tag of user.idTags ?? []) owners.set(key(tag), user.name);
  const defaultKey = key(options.defaultIdTag);
  return {
    defaultIdTag: options.defaultIdTag,
    authorize(idTag) {
      const user = owners.get(key(idTag)) ?? null;
      const accepted = user !== null || key(idTag) === defaultKey || options.acceptUnknown;
      return { idTagInfo: { status: accepted ? 'Accepted' : 'Invalid' }, user };
    },
    idTagForUser(user) {
      return options.users.find((u) => u.name === user)?.idTags?.[0] ?? null;
    },
  };
}
