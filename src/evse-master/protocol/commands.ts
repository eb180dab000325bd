/**
 * Command ids (§4.1). Charger→client ids are below 0x8000, client→charger ids have bit 15 set; a
 * response id is the request id minus 0x8000, an acknowledgement id is the event id plus 0x8000.
 */

export const Cmd = {
  LoginBeacon: 0x0001,
  LoginResponse: 0x0002,
  Heading: 0x0003,
  Status: 0x0004,
  ChargingStatus: 0x0005,
  ChargingStatusResponse: 0x0006,
  ChargeStartResponse: 0x0007,
  ChargeStopResponse: 0x0008,
  CurrentChargeRecord: 0x0009,
  UploadChargeRecord: 0x000a,
  StatusRecord: 0x000d,
  SystemTime: 0x0101,
  ChargeFee: 0x0104,
  ServiceFee: 0x0105,
  Version: 0x0106,
  MaxCurrent: 0x0107,
  Nickname: 0x0108,
  OfflineCharge: 0x010d,
  Language: 0x010f,
  TemperatureUnit: 0x0112,
  PasswordError: 0x0155,
  LoginConfirm: 0x8001,
  RequestLogin: 0x8002,
  HeadingResponse: 0x8003,
  StatusAck: 0x8004,
  ChargingStatusAck: 0x8005,
  RequestChargingStatus: 0x8006,
  ChargeStart: 0x8007,
  ChargeStop: 0x8008,
  ChargeRecordAck: 0x8009,
  UploadChargeRecordAck: 0x800a,
  RequestStatusRecord: 0x800d,
  SetGetSystemTime: 0x8101,
  SetGetChargeFee: 0x8104,
  SetGetServiceFee: 0x8105,
  GetVersion: 0x8106,
  SetGetMaxCurrent: 0x8107,
  SetGetNickname: 0x8108,
  SetGetOfflineCharge: 0x810d,
  SetGetLanguage: 0x810f,
  SetGetTemperatureUnit: 0x8112,
} as const;

export type CommandId = (typeof Cmd)[keyof typeof Cmd];

/** The action byte of set/get requests and their replies. */
export const SettingAction = { Set: 1, Get: 2 } as const;

/** The OEM app's names for every id of §4.1, in snake_case. */
const COMMAND_NAMES: ReadonlyMap<number, string> = new Map([
  [0x0001, 'login'],
  [0x0002, 'login_response'],
  [0x0003, 'heading'],
  [0x0004, 'single_ac_status'],
  [0x0005, 'single_ac_charging_status_public_auto'],
  [0x0006, 'single_ac_charging_status_response'],
  [0x0007, 'charge_start_response'],
  [0x0008, 'charge_stop_response'],
  [0x0009, 'current_charge_record'],
  [0x000a, 'upload_local_charge_record'],
  [0x000b, 'query_history_charge_record_response'],
  [0x000c, 'query_history_charge_record'],
  [0x000d, 'request_status_record'],
  [0x0101, 'setting_system_time'],
  [0x0102, 'set_password_response'],
  [0x0103, 'set_secret_response'],
  [0x0104, 'set_and_get_charge_fee_response'],
  [0x0105, 'set_and_get_service_fee_response'],
  [0x0106, 'get_version_response'],
  [0x0107, 'set_and_get_output_electricity_response'],
  [0x0108, 'set_and_get_nickname_response'],
  [0x0109, 'set_and_get_ble_pwd_response'],
  [0x010a, 'set_and_get_wifi_info_response'],
  [0x010b, 'get_server_ip_port_response'],
  [0x010c, 'switch_communication_pipe_response'],
  [0x010d, 'set_and_get_offline_charge_response'],
  [0x010e, 'set_and_get_alarm_charge_strategy_response'],
  [0x010f, 'set_and_get_language_response'],
  [0x0110, 'get_charge_count_response'],
  [0x0111, 'set_and_get_relaunch_count_response'],
  [0x0112, 'get_temperature_unit_response'],
  [0x0150, 'remotely_upgrade_response'],
  [0x0151, 'get_data_package'],
  [0x0152, 'remotely_upgrade_result'],
  [0x0153, 'remotely_upgrade_cancel_response'],
  [0x0154, 'reset_device_response'],
  [0x0155, 'password_error_response'],
  [0x0162, 'get_maneuver_response'],
  [0x8001, 'login_confirm'],
  [0x8002, 'request_login'],
  [0x8003, 'heading_response'],
  [0x8004, 'single_ac_status_response'],
  [0x8005, 'single_ac_charging_response'],
  [0x8006, 'request_single_ac_charging_status_auto'],
  [0x8007, 'charge_start'],
  [0x8008, 'charge_stop'],
  [0x8009, 'current_charge_record_response'],
  [0x800a, 'upload_local_charge_record_response'],
  [0x800b, 'request_history_charge_record'],
  [0x800c, 'request_history_charge_record_by_date'],
  [0x800d, 'request_status_record'],
  [0x8101, 'set_and_get_system_time'],
  [0x8102, 'set_password'],
  [0x8103, 'set_secret'],
  [0x8104, 'set_and_get_charge_fee'],
  [0x8105, 'set_and_get_service_fee'],
  [0x8106, 'get_version'],
  [0x8107, 'set_and_get_output_electricity'],
  [0x8108, 'set_and_get_nickname'],
  [0x8109, 'set_and_get_ble_pwd'],
  [0x810a, 'set_and_get_wifi_info'],
  [0x810b, 'get_server_ip_port'],
  [0x810c, 'switch_communication_pipe'],
  [0x810d, 'set_and_get_offline_charge'],
  [0x810e, 'set_and_get_alarm_charge_strategy'],
  [0x810f, 'set_and_get_language'],
  [0x8110, 'get_charge_count'],
  [0x8111, 'get_relaunch_count'],
  [0x8112, 'set_and_get_temperature_unit'],
  [0x8150, 'remotely_upgrade'],
  [0x8151, 'get_data_package_response'],
  [0x8152, 'remotely_upgrade_result_response'],
  [0x8153, 'remotely_upgrade_cancel'],
  [0x8154, 'reset_device'],
  [0x8162, 'maneuver'],
]);

/** Every id the OEM app knows, for tests and tooling. */
export const KNOWN_COMMAND_IDS: readonly number[] = [...COMMAND_NAMES.keys()];

/** "0x0004" */
export function commandHex(id: number): string {
  return `0x${id.toString(16).padStart(4, '0')}`;
}

/** The app's snake_case name, or `unknown_0x1234`. */
export function commandName(id: number): string {
  return COMMAND_NAMES.get(id) ?? `unknown_${commandHex(id)}`;
}

export type Direction = 'charger_to_client' | 'client_to_charger';

/** Bit 15 marks client→charger commands. */
export function commandDirection(id: number): Direction {
  return (id & 0x8000) !== 0 ? 'client_to_charger' : 'charger_to_client';
}
