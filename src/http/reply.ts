/**
 * What a route answers, and how it goes on the wire: always a length, no caching, no sniffing, and
 * never more than the configured size.
 */
import type { ServerResponse } from 'node:http';

/** An answer a route gives on purpose (400, 401, 404, 405); its message is safe to show. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface Reply {
  status: number;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
}

export function json(status: number, value: unknown): Reply {
  return { status, contentType: 'application/json; charset=utf-8', body: `${JSON.stringify(value)}\n` };
}

export function send(res: ServerResponse, reply: Reply, maxBytes: number): void {
  let { status, body } = reply;
  let bytes = Buffer.from(body, 'utf8');
  let contentType = reply.contentType;
  if (bytes.length > maxBytes) {
    ({ status, contentType, body } = json(500, { error: 'the answer is too large to send' }));
    bytes = Buffer.from(body, 'utf8');
  }
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', bytes.length);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
  res.end(bytes);
}
