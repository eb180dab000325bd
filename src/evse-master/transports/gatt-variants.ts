/**
 * The three BLE-to-UART modules found in Besen BS20 chargers and how to pick one after service
 * discovery. Selection is by characteristic UUID and properties only, in the order used by the
 * references (new FFE board, revised CDD board, old FFF board).
 */

export type GattVariantName = 'FFE' | 'CDD' | 'FFF';

export interface GattVariant {
  name: GattVariantName;
  /** What the references call the board. */
  board: 'new' | 'revised' | 'old';
  /** 128-bit UUIDs, 32 lowercase hex digits without dashes (noble's form). */
  notifyUuid: string;
  writeUuid: string;
}

const SIG_BASE = '00001000800000805f9b34fb';

/** In selection order. */
export const GATT_VARIANTS: readonly GattVariant[] = [
  { name: 'FFE', board: 'new', notifyUuid: `0000ffe4${SIG_BASE}`, writeUuid: `0000ffe9${SIG_BASE}` },
  {
    name: 'CDD',
    board: 'revised',
    // Not the Bluetooth SIG base: the module vendor's own base ending in 9b0131.
    notifyUuid: '0003cdd100001000800000805f9b0131',
    writeUuid: '0003cdd200001000800000805f9b0131',
  },
  { name: 'FFF', board: 'old', notifyUuid: `0000fff1${SIG_BASE}`, writeUuid: `0000fff2${SIG_BASE}` },
];

/**
 * Bring a UUID to 32 lowercase hex digits. noble reports 16-bit UUIDs as `fff1` and 128-bit ones as
 * 32 hex digits without dashes; configs and docs use the dashed form. Returns null for anything that
 * is not a UUID.
 */
export function normalizeUuid(uuid: string): string | null {
  const hex = uuid.trim().toLowerCase().replace(/^0x/, '').replace(/[-{}]/g, '');
  if (!/^[0-9a-f]+$/.test(hex)) return null;
  if (hex.length === 4) return `0000${hex}${SIG_BASE}`;
  if (hex.length === 8) return `${hex}${SIG_BASE}`;
  if (hex.length === 32) return hex;
  return null;
}

/** The part of a noble characteristic this module looks at. */
export interface CharacteristicShape {
  uuid: string;
  properties: readonly string[];
}

export interface GattSelection<C extends CharacteristicShape> {
  variant: GattVariant;
  notify: C;
  write: C;
  /** Write-Without-Response when the write characteristic offers it, else Write-With-Response. */
  withoutResponse: boolean;
}

function canNotify(c: CharacteristicShape): boolean {
  return c.properties.includes('notify') || c.properties.includes('indicate');
}

function canWrite(c: CharacteristicShape): boolean {
  return c.properties.includes('write') || c.properties.includes('writeWithoutResponse');
}

/** Pick the first variant whose notify and write characteristics both exist with usable properties. */
export function selectGattPair<C extends CharacteristicShape>(
  characteristics: readonly C[],
): GattSelection<C> | null {
  for (const variant of GATT_VARIANTS) {
    const notify = characteristics.find((c) => normalizeUuid(c.uuid) === variant.notifyUuid && canNotify(c));
    const write = characteristics.find((c) => normalizeUuid(c.uuid) === variant.writeUuid && canWrite(c));
    if (notify && write) {
      return { variant, notify, write, withoutResponse: write.properties.includes('writeWithoutResponse') };
    }
  }
  return null;
}

/** For error messages: what the peripheral offered instead. */
export function describeCharacteristics(characteristics: readonly CharacteristicShape[]): string {
  if (characteristics.length === 0) return 'no characteristics';
  return characteristics.map((c) => `${c.uuid}[${c.properties.join(',')}]`).join(' ');
}
