/** K1–K12: the client encoders reproduce the constructed vectors byte for byte from typed values. */
import { describe, expect, it } from 'vitest';
import {
  bytesToHex,
  Cmd,
  decodeFrame,
  decodeMessage,
  encodeChargeStartRequest,
  encodeChargeStopRequest,
  encodeFrame,
  encodeGetVersion,
  encodeHeadingResponse,
  encodeLoginConfirm,
  encodeMaxCurrentSetting,
  encodeNicknameRequest,
  encodeRequestLogin,
  encodeStatusAck,
  encodeSystemTimeRequest,
  pinToPassword,
  SettingAction,
  serialFromString,
} from '../../../src/evse-master/protocol/index.js';
import { VECTORS, type VectorId, vectorBytes } from './vectors.js';

const SERIAL = serialFromString('1122334455667788');
const PASSWORD = pinToPassword('123456');

const clientFrame = (command: number, payload: Uint8Array): string =>
  bytesToHex(encodeFrame({ keyType: 0, serial: SERIAL, password: PASSWORD, command, payload }));

const cases: Array<[VectorId, number, () => Uint8Array]> = [
  ['K1', Cmd.RequestLogin, () => encodeRequestLogin()],
  ['K2', Cmd.RequestLogin, () => encodeRequestLogin(0)],
  ['K3', Cmd.LoginConfirm, () => encodeLoginConfirm()],
  ['K4', Cmd.HeadingResponse, () => encodeHeadingResponse()],
  ['K5', Cmd.StatusAck, () => encodeStatusAck()],
  ['K6', Cmd.GetVersion, () => encodeGetVersion()],
  ['K7', Cmd.SetGetMaxCurrent, () => encodeMaxCurrentSetting({ action: SettingAction.Set, currentA: 16 })],
  ['K8', Cmd.SetGetMaxCurrent, () => encodeMaxCurrentSetting({ action: SettingAction.Get, currentA: null })],
  [
    'K9',
    Cmd.SetGetSystemTime,
    () => encodeSystemTimeRequest({ action: SettingAction.Set, time: { raw: 0x67a046c8 } }),
  ],
  [
    'K10',
    Cmd.ChargeStart,
    () =>
      encodeChargeStartRequest({
        lineId: 1,
        userId: 'evseMQTT',
        chargeId: '2025020312321337',
        startTime: { raw: 0x67a046c8 },
        maxCurrentA: 16,
      }),
  ],
  ['K11', Cmd.ChargeStop, () => encodeChargeStopRequest({ lineId: 1, userId: 'evseMQTT' })],
  ['K12', Cmd.SetGetNickname, () => encodeNicknameRequest({ action: SettingAction.Set, name: 'Garage' })],
];

describe('client encoders', () => {
  it.each(cases)('%s is reproduced byte for byte', (id, command, payload) => {
    expect(clientFrame(command, payload())).toBe(VECTORS[id]);
  });

  it('K10 decodes back to the typed request (all limits unlimited, param3 0xFFFF)', () => {
    const message = decodeMessage(decodeFrame(vectorBytes('K10')), { timeZone: 'Europe/Paris' });
    expect(message).toEqual({
      type: 'charge_start',
      command: 0x8007,
      lineId: 1,
      userId: 'evseMQTT',
      chargeId: '2025020312321337',
      isReservation: false,
      // 2025-02-03 12:32:08 wall clock in Paris (CET, UTC+1)
      startTime: { raw: 0x67a046c8, unixMs: Date.parse('2025-02-03T11:32:08Z') },
      startType: 1,
      chargeType: 1,
      maxDurationMinutes: null,
      maxEnergyKwh: null,
      param3: 0xffff,
      maxCurrentA: 16,
    });
  });

  it('decodes every K vector back to its request type', () => {
    const types = cases.map(([id]) => decodeMessage(decodeFrame(vectorBytes(id))).type);
    expect(types).toEqual([
      'request_login',
      'request_login',
      'login_confirm',
      'heading_response',
      'status_ack',
      'version_request',
      'max_current_request',
      'max_current_request',
      'system_time_request',
      'charge_start',
      'charge_stop',
      'nickname_request',
    ]);
    expect(decodeMessage(decodeFrame(vectorBytes('K1')))).toEqual({
      type: 'request_login',
      command: 0x8002,
      flag: null,
    });
    expect(decodeMessage(decodeFrame(vectorBytes('K2')))).toEqual({
      type: 'request_login',
      command: 0x8002,
      flag: 0,
    });
    expect(decodeMessage(decodeFrame(vectorBytes('K7')))).toMatchObject({ action: 1, currentA: 16 });
    expect(decodeMessage(decodeFrame(vectorBytes('K8')))).toMatchObject({ action: 2, currentA: null });
    expect(decodeMessage(decodeFrame(vectorBytes('K12')))).toMatchObject({ action: 1, name: 'Garage' });
  });
});
