/** `ble:` — the Bluetooth adapter shared by all BLE chargers. */
import { z } from 'zod';
import { oneOf, wholeNumber } from '../fields.js';

export const NOBLE_PACKAGES = ['@stoprocent/noble', '@abandonware/noble'] as const;

export const bleSection = z
  .strictObject({
    noble_package: oneOf(NOBLE_PACKAGES).default('@stoprocent/noble'),
    // hciN of `hciconfig`; unset = the system default adapter.
    hci_device_id: wholeNumber(0, 255).optional(),
    scan_timeout_s: wholeNumber(1, 300, 'seconds').default(10),
  })
  .prefault({});
