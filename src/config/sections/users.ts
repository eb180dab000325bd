/**
 * `users:` — who sessions belong to. Each user can have RFID cards / OCPP idTags and the text
 * chargebridge writes in (and recognises from) the BS20 charge-start user field. Names, tags and
 * BS20 user ids must be unique, so a session can only ever belong to one person.
 */
import { z } from 'zod';
import { EVEN_WITH_ERRORS_IN_LIST, pattern, reportAt, text } from '../fields.js';

const user = z.strictObject({
  name: text(32, 'must be a name of 1 to 32 characters, e.g. alice'),
  // OCPP idTags are at most 20 characters (CiString20).
  id_tags: z
    .array(text(20, 'must be an RFID card number / OCPP idTag of 1 to 20 characters, in quotes'), {
      error: 'must be a list of RFID card numbers, e.g. ["04A1B2C3"]',
    })
    .default([]),
  bs20_user_id: pattern(
    /^[\x20-\x7e]{1,16}$/,
    'must be 1 to 16 plain ASCII characters (the BS20 user field), e.g. alice01',
  ).optional(),
});

function checkUnique(users: unknown[], check: z.RefinementCtx): void {
  const seen = {
    name: new Map<string, number>(),
    tag: new Map<string, number>(),
    bs20: new Map<string, number>(),
  };
  const claim = (
    kind: keyof typeof seen,
    key: string,
    index: number,
    path: (string | number)[],
    shown: string,
  ) => {
    const first = seen[kind].get(key);
    if (first === undefined) seen[kind].set(key, index);
    else if (first !== index)
      reportAt(
        check,
        path,
        `"${shown}" is already used by users[${first}]; a session can belong to one user only`,
      );
  };
  users.forEach((entry, index) => {
    const u = entry as { name?: unknown; id_tags?: unknown; bs20_user_id?: unknown } | null;
    if (typeof u?.name === 'string') claim('name', u.name, index, [index, 'name'], u.name);
    if (Array.isArray(u?.id_tags)) {
      u.id_tags.forEach((tag, t) => {
        // Readers print hex in either case; chargebridge compares tags without case.
        if (typeof tag === 'string')
          claim('tag', tag.trim().toUpperCase(), index, [index, 'id_tags', t], tag);
      });
    }
    if (typeof u?.bs20_user_id === 'string')
      claim('bs20', u.bs20_user_id, index, [index, 'bs20_user_id'], u.bs20_user_id);
  });
}

export const usersSection = z
  .array(user, { error: 'must be a list of users (each entry starting with "- name: …")' })
  .superRefine(checkUnique, EVEN_WITH_ERRORS_IN_LIST)
  .default([]);
