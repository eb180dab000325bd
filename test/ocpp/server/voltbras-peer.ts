/**
 * An independent charge point for tests: @voltbras/ts-ocpp's ChargePoint (its own schemas and JSON
 * handling) that records what the central system asks and answers with fixed, valid replies.
 */
import { ChargePoint } from '@voltbras/ts-ocpp';
import { deferred } from './harness.js';

export type Req = { action: string } & Record<string, unknown>;

export interface Peer {
  cp: ChargePoint;
  /** Requests the central system sent to this charge point. */
  received: Req[];
  next(action: string): Promise<Req>;
  send(action: string, payload: Record<string, unknown>): Promise<Record<string, unknown>>;
}

export const ANSWERS: Record<string, Record<string, unknown>> = {
  RemoteStartTransaction: { status: 'Accepted' },
  RemoteStopTransaction: { status: 'Accepted' },
  SetChargingProfile: { status: 'Accepted' },
  TriggerMessage: { status: 'Accepted' },
  Reset: { status: 'Accepted' },
  GetConfiguration: { configurationKey: [{ key: 'ChargeProfileMaxStackLevel', readonly: true, value: '8' }] },
};

export async function connectPeer(url: string, id: string): Promise<Peer> {
  const received: Req[] = [];
  const waiters: Array<{ action: string; resolve: (r: Req) => void }> = [];
  const cp = new ChargePoint(
    id,
    (async (req: Req) => {
      received.push(req);
      for (const w of waiters.filter((x) => x.action === req.action)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(req);
      }
      const answer = ANSWERS[req.action];
      if (!answer) throw new Error(`not supported: ${req.action}`);
      return { action: req.action, ocppVersion: 'v1.6-json', ...answer };
    }) as never,
    url,
  );
  await cp.connect();
  return {
    cp,
    received,
    next: (action) => {
      const d = deferred<Req>();
      waiters.push({ action, resolve: d.resolve });
      return d.promise;
    },
    send: async (action, payload) => {
      const result = await cp.sendRequest({ action, ocppVersion: 'v1.6-json', payload } as never);
      if (result.isLeft()) throw new Error(`${action} failed: ${String(result.extract())}`);
      return result.extract() as unknown as Record<string, unknown>;
    },
  };
}
