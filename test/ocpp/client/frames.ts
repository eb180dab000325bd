/**
 * The frames our charge point puts on the wire, checked against the OCPP 1.6 schemas of typed-ocpp
 * (an independent oracle): every CALL we send and every CALLRESULT/CALLERROR we answer with.
 */
import { OCPP16 } from 'typed-ocpp';

/** Schema problems of one CALL (empty when valid). */
export function validateCall(action: string, payload: unknown): string[] {
  const frame = [2, 'test', action, payload];
  return OCPP16.validateCall(frame) ? [] : [...OCPP16.validateCall.errors];
}

export interface WireCall {
  id: string;
  action: string;
  payload: Record<string, unknown>;
}

export class FrameLog {
  /** Calls we sent, in wire order. */
  readonly sent: WireCall[] = [];
  /** Calls the central system sent us, with our answer once given. */
  readonly received: Array<WireCall & { answer?: unknown[] }> = [];
  /** Every validation failure of something we put on the wire. */
  readonly problems: string[] = [];

  readonly onFrame = (message: string, outbound: boolean): void => {
    let frame: unknown;
    try {
      frame = JSON.parse(message);
    } catch {
      if (outbound) this.problems.push(`not JSON: ${message}`);
      return;
    }
    if (!Array.isArray(frame)) return;
    const [type, id, a, b] = frame as [number, string, unknown, unknown];
    if (outbound && type === 2) {
      const call = { id, action: String(a), payload: b as Record<string, unknown> };
      this.sent.push(call);
      if (!OCPP16.validateCall(frame))
        this.problems.push(`${call.action}: ${OCPP16.validateCall.errors.join('; ')}`);
    } else if (!outbound && type === 2) {
      this.received.push({ id, action: String(a), payload: b as Record<string, unknown> });
    } else if (outbound && (type === 3 || type === 4)) {
      const call = this.received.find((c) => c.id === id);
      if (call) call.answer = frame as unknown[];
      if (type === 3 && call) {
        const asCall = [2, id, call.action, call.payload] as unknown as OCPP16.Call;
        if (!OCPP16.checkCallResult(frame as never, asCall)) {
          this.problems.push(`${call.action}.conf: ${OCPP16.checkCallResult.errors.join('; ')}`);
        }
      } else if (type === 4 && !OCPP16.validateCallError(frame)) {
        this.problems.push(`CALLERROR: ${OCPP16.validateCallError.errors.join('; ')}`);
      }
    }
  };

  actions(): string[] {
    return this.sent.map((c) => c.action);
  }

  sentOf(action: string): WireCall[] {
    return this.sent.filter((c) => c.action === action);
  }

  /** Our answer payload (CALLRESULT) or error code (CALLERROR) to the last call of `action`. */
  answerTo(action: string): unknown {
    const call = this.received.filter((c) => c.action === action).at(-1);
    if (!call?.answer) return undefined;
    return call.answer[0] === 3 ? call.answer[2] : { error: call.answer[2] };
  }
}
