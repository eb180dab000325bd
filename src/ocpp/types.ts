/**
 * OCPP 1.6J message types shared by the central system (src/ocpp/server) and the charge-point
 * client (src/ocpp/client). Request/response shapes come from typed-ocpp (types only, erased at
 * build time); this file maps action names to them so `call()`/`handle()` in rpc.ts are typed.
 */
import type { OCPP16 } from 'typed-ocpp';

/** Sub-protocol names as negotiated in the websocket handshake. */
export const OCPP16_PROTOCOL = 'ocpp1.6';

/** Actions a charge point sends to the central system. */
export interface ChargePointToCentralSystem {
  Authorize: [OCPP16.AuthorizeRequest, OCPP16.AuthorizeResponse];
  BootNotification: [OCPP16.BootNotificationRequest, OCPP16.BootNotificationResponse];
  DataTransfer: [OCPP16.DataTransferRequest, OCPP16.DataTransferResponse];
  DiagnosticsStatusNotification: [
    OCPP16.DiagnosticsStatusNotificationRequest,
    OCPP16.DiagnosticsStatusNotificationResponse,
  ];
  FirmwareStatusNotification: [
    OCPP16.FirmwareStatusNotificationRequest,
    OCPP16.FirmwareStatusNotificationResponse,
  ];
  Heartbeat: [OCPP16.HeartbeatRequest, OCPP16.HeartbeatResponse];
  MeterValues: [OCPP16.MeterValuesRequest, OCPP16.MeterValuesResponse];
  StartTransaction: [OCPP16.StartTransactionRequest, OCPP16.StartTransactionResponse];
  StatusNotification: [OCPP16.StatusNotificationRequest, OCPP16.StatusNotificationResponse];
  StopTransaction: [OCPP16.StopTransactionRequest, OCPP16.StopTransactionResponse];
  SecurityEventNotification: [
    OCPP16.SecurityEventNotificationRequest,
    OCPP16.SecurityEventNotificationResponse,
  ];
}

/** Actions the central system sends to a charge point. */
export interface CentralSystemToChargePoint {
  CancelReservation: [OCPP16.CancelReservationRequest, OCPP16.CancelReservationResponse];
  ChangeAvailability: [OCPP16.ChangeAvailabilityRequest, OCPP16.ChangeAvailabilityResponse];
  ChangeConfiguration: [OCPP16.ChangeConfigurationRequest, OCPP16.ChangeConfigurationResponse];
  ClearCache: [OCPP16.ClearCacheRequest, OCPP16.ClearCacheResponse];
  ClearChargingProfile: [OCPP16.ClearChargingProfileRequest, OCPP16.ClearChargingProfileResponse];
  DataTransfer: [OCPP16.DataTransferRequest, OCPP16.DataTransferResponse];
  GetCompositeSchedule: [OCPP16.GetCompositeScheduleRequest, OCPP16.GetCompositeScheduleResponse];
  GetConfiguration: [OCPP16.GetConfigurationRequest, OCPP16.GetConfigurationResponse];
  GetDiagnostics: [OCPP16.GetDiagnosticsRequest, OCPP16.GetDiagnosticsResponse];
  GetLocalListVersion: [OCPP16.GetLocalListVersionRequest, OCPP16.GetLocalListVersionResponse];
  RemoteStartTransaction: [OCPP16.RemoteStartTransactionRequest, OCPP16.RemoteStartTransactionResponse];
  RemoteStopTransaction: [OCPP16.RemoteStopTransactionRequest, OCPP16.RemoteStopTransactionResponse];
  ReserveNow: [OCPP16.ReserveNowRequest, OCPP16.ReserveNowResponse];
  Reset: [OCPP16.ResetRequest, OCPP16.ResetResponse];
  SendLocalList: [OCPP16.SendLocalListRequest, OCPP16.SendLocalListResponse];
  SetChargingProfile: [OCPP16.SetChargingProfileRequest, OCPP16.SetChargingProfileResponse];
  TriggerMessage: [OCPP16.TriggerMessageRequest, OCPP16.TriggerMessageResponse];
  UnlockConnector: [OCPP16.UnlockConnectorRequest, OCPP16.UnlockConnectorResponse];
  UpdateFirmware: [OCPP16.UpdateFirmwareRequest, OCPP16.UpdateFirmwareResponse];
}

/** Every OCPP 1.6 action we type, whichever side sends it. */
export type Ocpp16Messages = ChargePointToCentralSystem & CentralSystemToChargePoint;
export type Ocpp16Action = keyof Ocpp16Messages;
export type ChargePointAction = keyof ChargePointToCentralSystem;
export type CentralSystemAction = keyof CentralSystemToChargePoint;

export type RequestOf<A extends Ocpp16Action> = Ocpp16Messages[A][0];
export type ResponseOf<A extends Ocpp16Action> = Ocpp16Messages[A][1];

export type IdTagInfo = OCPP16.AuthorizeResponse['idTagInfo'];
export type AuthorizationStatus = IdTagInfo['status'];
export type ChargePointStatus = OCPP16.StatusNotificationRequest['status'];
export type ChargePointErrorCode = OCPP16.StatusNotificationRequest['errorCode'];
export type SampledValue = OCPP16.SampledValue;
export type MeterValue = OCPP16.MeterValue;
export type Measurand = OCPP16.Measurand;
export type ChargingProfile = OCPP16.SetChargingProfileRequest['csChargingProfiles'];
export type StopReason = NonNullable<OCPP16.StopTransactionRequest['reason']>;

/** The 1.6 connector statuses, in spec order (for enums in HA and tolerant parsing). */
export const CHARGE_POINT_STATUSES = [
  'Available',
  'Preparing',
  'Charging',
  'SuspendedEVSE',
  'SuspendedEV',
  'Finishing',
  'Reserved',
  'Unavailable',
  'Faulted',
] as const satisfies readonly ChargePointStatus[];

/** OCPP timestamps: UTC ISO-8601 with milliseconds. */
export function ocppTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/** idTags are CiString20: compare without case. */
export function sameIdTag(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
