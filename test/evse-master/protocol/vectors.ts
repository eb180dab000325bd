/** The test vectors of docs/protocol.md ("Test vectors"), verbatim. */
import { hexToBytes } from '../../../src/evse-master/protocol/index.js';

export const VECTORS = {
  A2: '06010019009181102751219513ffffffffffff000308800f02',
  A3: '0601001b009181102751219513ffffffffffff0112020108950f02',
  A4: '0601003d009181102751219513ffffffffffff0106432e333235322e313132413030380000432e333235322e31313241303038000042296d480f780f02',
  A7: '0601001e009181102751219513ffffffffffff01010162505cdc0a6f0f02',
  A8: '0601001e009181102751219513ffffffffffff00070100010010089b0f02',
  A9: '060100480091811027512195133132333435368008013836303037393739383537383932343300000000000000000000000000000000000000000000000000000000000007cc0f02',
  B2: '0601001a008368555670377598ffffffffffff01550009bb0f02',
  B3: '0601005f008949281891483449ffffffffffff000201424553454e000000000000000000000042533230000000000000000000000000432e333235322e31313241303000000000001b80205757572e455653452e434f4d0000000011fd0f02',
  B4: '0601001a0039ff221053cb1f0032323132373880010104800f02',
  B5: '0601001b0039ff221053cb1f003232313237388112020004940f02',
  B6: '0601001d008949281891483449ffffffffffff010401010000088d0f02',
  B7: '0601001d008949281891483449ffffffffffff010501010000088e0f02',
  B8: '06010030008949281891483449ffffffffffff000401091b000000000000000645e753b953b90102020d00000c1e0f02',
  B9: '0601001b008949281891483449ffffffffffff01120201089a0f02',
  N1: '0601001d008949281891483449ffffffffffff010401010000088d0f020601001d008949281891483449ffffffffffff010501010000088e0f0206010030008949281891483449ffffffffffff000401091b000000000000000645e753b953b90102020d',
  N2: '00000c1e0f02',
  K1: '060100190011223344556677883132333435368002043b0f02',
  K2: '0601001a001122334455667788313233343536800200043c0f02',
  K3: '0601001a001122334455667788313233343536800101043c0f02',
  K4: '0601001a001122334455667788313233343536800301043e0f02',
  K5: '0601001a001122334455667788313233343536800401043f0f02',
  K6: '06010019001122334455667788313233343536810604400f02',
  K7: '0601001b0011223344556677883132333435368107011004540f02',
  K8: '0601001b0011223344556677883132333435368107020004450f02',
  K9: '0601001e00112233445566778831323334353681010167a046c806560f02',
  K10: '06010048001122334455667788313233343536800701657673654d5154540000000000000000323032353032303331323332313333370067a046c80101ffffffffffff1012ae0f02',
  K11: '06010048001122334455667788313233343536800801657673654d5154540000000000000000000000000000000000000000000000000000000000000000000000000000076a0f02',
  K12: '0601003a001122334455667788313233343536810801414350234761726167650000000000000000000000000000000000000000000007a20f02',
  K13: '06010019001122334455667788ffffffffffff000308810f02',
  K14: '0601003a001122334455667788ffffffffffff00040108fd064000000e620001e24057e455f00104010e0000000008fe05dc08ff057811810f02',
  K15: '06010032001122334455667788ffffffffffff00040108fa0000000000000001e240ffffffff0101020c000000400f0d0f02',
} as const;

export type VectorId = keyof typeof VECTORS;

export const vectorBytes = (id: VectorId): Uint8Array => hexToBytes(VECTORS[id]);

/** Every single-frame vector (N1/N2 are notifications, not frames). */
export const FRAME_VECTOR_IDS = (Object.keys(VECTORS) as VectorId[]).filter(
  (id) => id !== 'N1' && id !== 'N2',
);

/** Values written into the 180-byte record frame below (cmd 0x000A, payload 155 bytes like B11). */
export const RECORD_180 = {
  serial: '8949281891483449',
  lineId: 1,
  startUserId: 'evseMQTT',
  endUserId: 'evseMQTT',
  chargeId: '2025020312321337',
  startType: 4,
  chargeType: 2,
  param1Minutes: 180,
  param2Raw: 10000,
  param3Raw: 50000,
  stopReason: 16,
  reservationTimeRaw: 0x67a046c8,
  startTimeRaw: 0x67a046c8,
  stopTimeRaw: 0x67a046c8 + 4574,
  chargedTimeS: 4574,
  startEnergyRaw: 410752,
  stopEnergyRaw: 411111,
  sessionEnergyRaw: 359,
  logLength: 58,
} as const;

/**
 * A 180-byte 0x000A frame built by hand from the §4.8 offsets (not with our encoder, so it can check
 * it). The log area holds a fake `06 01 00 19` header to tempt the reassembler.
 */
export function buildRecordFrame180(): Uint8Array {
  const r = RECORD_180;
  const payload = new Uint8Array(155);
  const view = new DataView(payload.buffer);
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) payload[offset + i] = text.charCodeAt(i);
  };
  payload[0] = r.lineId;
  ascii(1, r.startUserId);
  ascii(17, r.endUserId);
  ascii(33, r.chargeId);
  payload[49] = 0;
  payload[50] = r.startType;
  payload[51] = r.chargeType;
  view.setUint16(52, r.param1Minutes);
  view.setUint16(54, r.param2Raw);
  view.setUint16(56, r.param3Raw);
  payload[58] = r.stopReason;
  payload[59] = 1;
  view.setUint32(60, r.reservationTimeRaw);
  view.setUint32(64, r.startTimeRaw);
  view.setUint32(68, r.stopTimeRaw);
  view.setUint32(72, r.chargedTimeS);
  view.setUint32(76, r.startEnergyRaw);
  view.setUint32(80, r.stopEnergyRaw);
  view.setUint32(84, r.sessionEnergyRaw);
  view.setUint16(95, r.logLength);
  for (let i = 97; i < 155; i++) payload[i] = (i * 7) & 0xff;
  payload.set([0x06, 0x01, 0x00, 0x19], 120);

  const frame = new Uint8Array(180);
  const fv = new DataView(frame.buffer);
  frame.set([0x06, 0x01], 0);
  fv.setUint16(2, 180);
  frame.set(hexToBytes(r.serial), 5);
  frame.fill(0xff, 13, 19);
  fv.setUint16(19, 0x000a);
  frame.set(payload, 21);
  let sum = 0;
  for (let i = 0; i < 176; i++) sum += frame[i]!;
  fv.setUint16(176, sum & 0xffff);
  frame.set([0x0f, 0x02], 178);
  return frame;
}
