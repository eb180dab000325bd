/**
 * The slice of the noble API that `@stoprocent/noble` 2.x and `@abandonware/noble` 1.9 share and
 * that the BLE transport uses. Both packages' real objects satisfy it; tests build real noble
 * objects over fake bindings and pass them in.
 */

export type NoblePackage = '@stoprocent/noble' | '@abandonware/noble';

export const NOBLE_PACKAGES: readonly NoblePackage[] = ['@stoprocent/noble', '@abandonware/noble'];

export type NobleListener = (...args: never[]) => void;

export interface NobleEmitterLike {
  on(event: string, listener: NobleListener): unknown;
  removeListener(event: string, listener: NobleListener): unknown;
  listenerCount(event: string): number;
}

export interface NobleCharacteristicLike extends NobleEmitterLike {
  readonly uuid: string;
  readonly properties: string[];
  writeAsync(data: Buffer, withoutResponse: boolean): Promise<void>;
  subscribeAsync(): Promise<unknown>;
  unsubscribeAsync(): Promise<unknown>;
}

export interface NobleServiceLike {
  readonly uuid: string;
  characteristics: NobleCharacteristicLike[] | null;
}

export interface NobleAdvertisementLike {
  localName?: string;
}

export interface NoblePeripheralLike extends NobleEmitterLike {
  readonly id: string;
  /** `aa:bb:cc:dd:ee:ff` on Linux; empty or unknown on macOS, where `id` is the stable key. */
  readonly address: string;
  advertisement: NobleAdvertisementLike;
  rssi: number;
  mtu: number | null;
  state: string;
  connectAsync(): Promise<void>;
  cancelConnect(): void;
  disconnect(): void;
  discoverAllServicesAndCharacteristicsAsync(): Promise<{
    services: NobleServiceLike[];
    characteristics: NobleCharacteristicLike[];
  }>;
  updateRssiAsync(): Promise<number>;
}

export interface NobleLike extends NobleEmitterLike {
  /** Reading it starts the bindings in both packages (and may throw in @abandonware/noble). */
  readonly state: string;
  startScanningAsync(serviceUuids?: string[], allowDuplicates?: boolean): Promise<void>;
  stopScanning(callback?: (error?: Error) => void): void;
  /** @stoprocent/noble only: closes the HCI socket and its poll timer. */
  stop?(): void;
}
