/**
 * `http:` — a small read-only HTTP endpoint (health, Prometheus metrics, session export). Off by
 * default; when on, `/metrics` and the export need the token (`Authorization: Bearer <token>`);
 * `/healthz` answers without it and shows nothing sensitive (see docs/http-api.md).
 */
import { z } from 'zod';
import { EVEN_WITH_ERRORS, flag, reportAt, text, wholeNumber } from '../fields.js';

export const HTTP_TOKEN_MIN_LENGTH = 16;

export const httpSection = z
  .strictObject({
    enabled: flag().default(false),
    host: text(
      253,
      'must be the address to listen on, e.g. 127.0.0.1 (this machine) or 0.0.0.0 (all interfaces)',
    ).default('127.0.0.1'),
    port: wholeNumber(1, 65535).default(8099),
    token: text(
      256,
      `must be a secret of ${HTTP_TOKEN_MIN_LENGTH} to 256 characters (e.g. from \`openssl rand -hex 24\`)`,
    )
      // It travels in an Authorization header: a space or a non-ASCII character could never match.
      .regex(/^[\x21-\x7e]+$/, {
        error: 'must be printable ASCII without spaces (e.g. from `openssl rand -hex 24`)',
      })
      .optional(),
  })
  .superRefine((http, check) => {
    if (http.enabled !== true) return;
    if (http.token === undefined) {
      reportAt(check, ['token'], 'is required when http.enabled is true: every request must present it');
    } else if (typeof http.token === 'string' && http.token.length < HTTP_TOKEN_MIN_LENGTH) {
      reportAt(
        check,
        ['token'],
        `must be at least ${HTTP_TOKEN_MIN_LENGTH} characters, so it cannot be guessed`,
      );
    }
  }, EVEN_WITH_ERRORS)
  .prefault({});
