import { describe, expect, it } from 'vitest';
import { runDecode } from '../../src/cli/decode.js';
import { VECTORS } from '../evse-master/protocol/vectors.js';

function run(args: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runDecode(
    args,
    {
      write: (s) => {
        out += s;
      },
    },
    {
      write: (s) => {
        err += s;
      },
    },
  );
  return { code, out, err };
}

/** The output is a stream of pretty-printed JSON objects. */
function objects(text: string): Array<Record<string, unknown>> {
  return text
    .split(/\n(?=\{)/)
    .filter((chunk) => chunk.trim() !== '')
    .map((chunk) => JSON.parse(chunk) as Record<string, unknown>);
}

describe('runDecode', () => {
  it('decodes one frame as pretty JSON', () => {
    const { code, out, err } = run([VECTORS.A2]);
    expect(code).toBe(0);
    expect(err).toBe('');
    expect(out).toContain('\n  "command": "0x0003",\n');
    expect(objects(out)).toEqual([
      {
        command: '0x0003',
        commandName: 'heading',
        direction: 'charger_to_client',
        message: 'heading',
        serial: '9181102751219513',
        keyType: 0,
        password: 'charger',
        payloadBytes: 0,
      },
    ]);
  });

  it('runs notifications split over arguments, with spaces and junk, through the reassembler', () => {
    const spaced = VECTORS.N1.replace(/(..)/g, '$1 ');
    const { code, out } = run(['00 06 00', spaced, VECTORS.N2, 'ffff']);
    expect(code).toBe(0);
    const result = objects(out);
    expect(result.map((o) => o.discardedBytes ?? o.command)).toEqual([3, '0x0104', '0x0105', '0x0004', 2]);
    expect(result[3]).toMatchObject({ l1VoltageV: 233.1, energyTotalKwh: 4111.11, errorWidthBits: 16 });
    expect(result[4]).toEqual({ discardedBytes: 2, incompleteAtEnd: false });
  });

  it('reports an incomplete frame at the end', () => {
    const { code, out } = run([VECTORS.K13, VECTORS.A2.slice(0, 20)]);
    expect(code).toBe(0);
    expect(objects(out).at(-1)).toEqual({ discardedBytes: 10, incompleteAtEnd: true });
  });

  it('decodes times in the zone given with --tz', () => {
    const paris = objects(run(['--tz', 'Europe/Paris', VECTORS.A7]).out)[0];
    expect(paris).toMatchObject({ time: '2022-04-08T22:03:40.000Z', timeRaw: 1649433820 });
    const shanghai = objects(run([VECTORS.A7, '--tz=Asia/Shanghai']).out)[0];
    expect(shanghai).toMatchObject({ time: '2022-04-08T16:03:40.000Z' });
  });

  it('exits 2 with a clear message when nothing decodes', () => {
    const corrupt = VECTORS.A2.slice(0, -4) + '0f03';
    const result = run([corrupt]);
    expect(result.code).toBe(2);
    expect(result.err).toContain('no valid frame found in 25 bytes');
    expect(result.err).toContain('bad_tail');
    expect(objects(result.out)).toEqual([{ discardedBytes: 25, incompleteAtEnd: false }]);
  });

  it('exits 2 on usage errors', () => {
    expect(run([]).err).toContain('no hex given');
    expect(run([]).code).toBe(2);
    expect(run(['06 0']).err).toContain('odd number of digits');
    expect(run(['xyz']).code).toBe(2);
    expect(run(['--tz', 'Nowhere/City', VECTORS.A2]).err).toContain('unknown time zone: Nowhere/City');
    expect(run(['--tz']).err).toContain('--tz needs a time zone name');
    expect(run(['--verbose', VECTORS.A2]).err).toContain('unknown option: --verbose');
    expect(run(['--help'])).toMatchObject({ code: 0, out: expect.stringContaining('usage:') });
  });

  it('writes to the one stream it is given', () => {
    let text = '';
    const writer = {
      write: (s: string) => {
        text += s;
      },
    };
    expect(runDecode([], writer)).toBe(2);
    expect(text).toContain('usage:');
  });
});
