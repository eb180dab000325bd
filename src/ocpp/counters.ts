/**
 * OCPP traffic counters for /metrics: frames in and out and open connections, for our central
 * system (`server`) and for the upstream charge points (`client`).
 */
import type { OcppCounters, OcppMetricsProvider } from '../http/providers.js';

export class OcppTrafficCounters implements OcppMetricsProvider {
  private received = 0;
  private sent = 0;

  constructor(
    private readonly role: OcppCounters['role'],
    /** Open connections right now, asked at each scrape. */
    private readonly openConnections: () => number,
  ) {}

  frame(outbound: boolean): void {
    if (outbound) this.sent++;
    else this.received++;
  }

  ocppCounters(): OcppCounters {
    return {
      role: this.role,
      connections: this.openConnections(),
      messagesReceived: this.received,
      messagesSent: this.sent,
    };
  }
}
