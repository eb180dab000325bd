/**
 * Configured users and who a session belongs to. Precedence: an RFID/idTag (a known tag names its
 * user; an unknown one is recorded as unknown and names nobody), then the user field the charger
 * reports (BS20 charge-start user id, matched against `bs20_user_id` or the name), then the user
 * selected in Home Assistant for the charger's next session.
 */
import type { UserSource } from './record.js';

export interface UserConfig {
  name: string;
  /** RFID cards / OCPP idTags of this user. */
  idTags?: readonly string[];
  /** What chargebridge writes in (and recognises from) the BS20 charge-start user field. */
  bs20UserId?: string | null;
}

export interface Attribution {
  user: string | null;
  userSource: UserSource | null;
  idTag: string | null;
  /** null when there is no tag. */
  idTagKnown: boolean | null;
}

export interface AttributionInput {
  idTag: string | null;
  /** The user field the charger reports for the session. */
  chargerUserId: string | null;
  /** Selected for this charger's next session when it opened. */
  selected: string | null;
}

/** Tags are compared without case and surrounding spaces (readers differ in how they print hex). */
const tagKey = (tag: string) => tag.trim().toUpperCase();

/** BS20 user field: printable ASCII, at most 16 characters. */
export const BS20_USER_ID_MAX = 16;

export class UserDirectory {
  private readonly users: readonly UserConfig[];
  private readonly tags = new Map<string, string>();
  private readonly chargerIds = new Map<string, string>();

  constructor(users: readonly UserConfig[] = []) {
    this.users = users;
    for (const user of users) {
      for (const tag of user.idTags ?? []) this.tags.set(tagKey(tag), user.name);
      this.chargerIds.set(user.name, user.name);
    }
    // What we write in the user field (an explicit BS20 id, or the name cut to 16 characters) wins
    // over a name that happens to be equal.
    for (const user of users) this.chargerIds.set(chargerField(user), user.name);
  }

  names(): string[] {
    return this.users.map((u) => u.name);
  }

  has(name: string): boolean {
    return this.users.some((u) => u.name === name);
  }

  userForTag(idTag: string): string | null {
    return this.tags.get(tagKey(idTag)) ?? null;
  }

  userForChargerId(chargerUserId: string): string | null {
    return this.chargerIds.get(chargerUserId) ?? null;
  }

  /** What to write in the BS20 charge-start user field for this user (null: not a configured user). */
  chargerUserIdFor(name: string): string | null {
    const user = this.users.find((u) => u.name === name);
    return user ? chargerField(user) : null;
  }

  attribute(input: AttributionInput): Attribution {
    if (input.idTag !== null && input.idTag.trim() !== '') {
      const user = this.userForTag(input.idTag);
      return { user, userSource: user ? 'id_tag' : null, idTag: input.idTag, idTagKnown: user !== null };
    }
    const fromCharger = input.chargerUserId ? this.userForChargerId(input.chargerUserId) : null;
    if (fromCharger) return { user: fromCharger, userSource: 'charger', idTag: null, idTagKnown: null };
    if (input.selected && this.has(input.selected)) {
      return { user: input.selected, userSource: 'selected', idTag: null, idTagKnown: null };
    }
    return { user: null, userSource: null, idTag: null, idTagKnown: null };
  }
}

function chargerField(user: UserConfig): string {
  return (user.bs20UserId ?? user.name).replace(/[^\x20-\x7e]/g, '_').slice(0, BS20_USER_ID_MAX);
}
