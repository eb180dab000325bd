/**
 * From the configuration to running charge-point bridges: one per BS20 whose `ocpp_upstream` is
 * enabled. Kept here so the daemon only calls one function.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ChargebridgeConfig } from '../../config/index.js';
import type { Charger } from '../../core/charger.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../log.js';
import { ChargePointBridge, type OcppUpstreamSettings } from './charge-point.js';

type UpstreamConfig = NonNullable<
  Extract<ChargebridgeConfig['chargers'][number], { type: 'bs20' }>['ocppUpstream']
>;

/** The bridge settings for one `ocpp_upstream` entry; relative paths are from the config file's folder. */
export function upstreamSettings(upstream: UpstreamConfig, configPath: string): OcppUpstreamSettings {
  const ca = upstream.tls?.ca;
  return {
    url: upstream.url,
    stationId: upstream.stationId,
    securityProfile: upstream.securityProfile,
    password: upstream.password,
    passwordEncoding: upstream.passwordEncoding,
    tls: upstream.tls && {
      ca: ca === undefined ? undefined : readFileSync(resolve(dirname(configPath), ca)),
      rejectUnauthorized: upstream.tls.rejectUnauthorized,
    },
    idTag: upstream.idTag,
    meterValueSampleIntervalS: upstream.meterValueSampleIntervalS,
    heartbeatIntervalS: upstream.heartbeatIntervalS,
    pingIntervalS: upstream.pingIntervalS,
    callTimeoutS: upstream.callTimeoutS,
    reconnectMaxDelayS: upstream.reconnectMaxDelayS,
  };
}

export interface StartBridgesOptions {
  config: ChargebridgeConfig;
  /** The config file (for relative TLS paths). */
  configPath: string;
  chargers: readonly Charger[];
  clock: Clock;
  logger: Logger;
  /** Every frame to or from an upstream central system (metrics). */
  onFrame?: (message: string, outbound: boolean) => void;
  /** A bridge ends a transaction on purpose (for the session tracker's stop reason). */
  onStopRequested?: (chargerId: string) => void;
  /** A bridge pauses the charge inside its transaction (for the session tracker). */
  onPauseRequested?: (chargerId: string, reason: string) => void;
}

/** Starts a bridge for every enabled `ocpp_upstream`; they connect and retry in the background. */
export async function startChargePointBridges(options: StartBridgesOptions): Promise<ChargePointBridge[]> {
  const bridges: ChargePointBridge[] = [];
  for (const entry of options.config.chargers) {
    const upstream = entry.ocppUpstream;
    if (!upstream?.enabled) continue;
    const charger = options.chargers.find((c) => c.id === entry.id);
    if (!charger) continue;
    const bridge = await ChargePointBridge.open({
      charger,
      settings: upstreamSettings(upstream, options.configPath),
      dataDir: options.config.dataDir,
      timeZone: options.config.timezone,
      clock: options.clock,
      logger: options.logger,
      ...(options.onFrame ? { onFrame: options.onFrame } : {}),
      ...(options.onStopRequested ? { onStopRequested: () => options.onStopRequested?.(charger.id) } : {}),
      ...(options.onPauseRequested
        ? { onPauseRequested: (reason: string) => options.onPauseRequested?.(charger.id, reason) }
        : {}),
    });
    bridge.start();
    options.logger.info(
      { charger: charger.id, url: upstream.url, station: upstream.stationId },
      'OCPP charge point started',
    );
    bridges.push(bridge);
  }
  return bridges;
}
