import type { ChildProcess } from 'node:child_process';
/** What the OCPP server bench's processes say to each other. */
export type ServerKind = 'bare' | 'chargebridge';

export type ToServer = { type: 'memory' } | { type: 'stop' };
export type FromServer =
  | { type: 'ready'; port: number }
  | { type: 'memory'; rssBytes: number; heapUsedBytes: number; connected: number };

export interface ClientsReport {
  type: 'report';
  /** Wall time to open every websocket and get every BootNotification answered. */
  connectMs: number;
  connected: number;
  /** Steady load: MeterValues and Heartbeat every interval per station. */
  steady: PhaseReport;
  /** Saturation: every station calls back to back, one call outstanding each. */
  burst: PhaseReport;
  failures: number;
}

export interface PhaseReport {
  calls: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export type FromClients = ClientsReport | { type: 'phase'; phase: 'connected' | 'steady-done' };

export type ToClients = { type: 'go' } | { type: 'stop' };

export const stationIdentity = (i: number) => `CB-${String(i).padStart(5, '0')}`;

/** The next IPC message from a bench child that `accept` takes; rejects if the child exits first. */
export function nextMessage<T>(child: ChildProcess, accept: (m: T) => boolean): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: T) => {
      if (!accept(m)) return;
      cleanup();
      resolve(m);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`bench child exited (${code}) before answering`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}
