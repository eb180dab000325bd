/** The exposition writer: escaping, special values, and the rules it enforces on our own names. */
import { describe, expect, it } from 'vitest';
import {
  escapeHelp,
  escapeLabelValue,
  formatValue,
  type MetricFamily,
  renderExposition,
} from '../../src/http/prometheus.js';
import { parseExposition, sampleValue } from './exposition-parser.js';

describe('Prometheus text format 0.0.4', () => {
  it('escapes backslash, quote and line feed in label values, and only those', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(escapeLabelValue('Garage {left}, ü')).toBe('Garage {left}, ü');
    expect(escapeHelp('line one\nback\\slash "quoted"')).toBe('line one\\nback\\\\slash "quoted"');
  });

  it('spells NaN and infinities the way Prometheus parses them', () => {
    expect(formatValue(Number.NaN)).toBe('NaN');
    expect(formatValue(Number.POSITIVE_INFINITY)).toBe('+Inf');
    expect(formatValue(Number.NEGATIVE_INFINITY)).toBe('-Inf');
    expect(formatValue(-3.25)).toBe('-3.25');
    expect(formatValue(1e-7)).toBe('1e-7');
    expect(Number(formatValue(1234.567))).toBe(1234.567);
  });

  it('writes HELP and TYPE before the samples, and reads back to the same values', () => {
    const nasty = 'evil"} 1\n# TYPE x counter\\';
    const families: MetricFamily[] = [
      {
        name: 'demo_power_watts',
        help: 'Power\nwith a second line',
        type: 'gauge',
        samples: [
          { labels: { charger: 'garage' }, value: 7200 },
          { labels: { charger: nasty }, value: 0.5 },
        ],
      },
      { name: 'demo_events_total', help: 'Events', type: 'counter', samples: [{ value: 3 }] },
      { name: 'demo_empty', help: 'Never shown', type: 'gauge', samples: [] },
    ];
    const text = renderExposition(families);
    expect(text.endsWith('\n')).toBe(true);
    expect(text.split('\n').slice(0, 3)).toEqual([
      '# HELP demo_power_watts Power\\nwith a second line',
      '# TYPE demo_power_watts gauge',
      'demo_power_watts{charger="garage"} 7200',
    ]);
    const parsed = parseExposition(text);
    expect([...parsed.keys()]).toEqual(['demo_power_watts', 'demo_events_total']);
    expect(parsed.get('demo_power_watts')?.help).toBe('Power\nwith a second line');
    expect(sampleValue(parsed, 'demo_power_watts', { charger: nasty })).toBe(0.5);
    expect(sampleValue(parsed, 'demo_events_total')).toBe(3);
    expect(parsed.get('demo_events_total')?.type).toBe('counter');
  });

  it('refuses our own mistakes: bad names, counters without _total, repeats', () => {
    const gauge = (name: string, samples: MetricFamily['samples'] = [{ value: 1 }]): MetricFamily => ({
      name,
      help: 'h',
      type: 'gauge',
      samples,
    });
    expect(() => renderExposition([gauge('9starts_with_digit')])).toThrow(/invalid metric name/);
    expect(() => renderExposition([gauge('has-dash')])).toThrow(/invalid metric name/);
    expect(() => renderExposition([{ name: 'energy_kwh', help: 'h', type: 'counter', samples: [] }])).toThrow(
      /must end in _total/,
    );
    expect(() => renderExposition([gauge('a'), gauge('a')])).toThrow(/listed twice/);
    expect(() => renderExposition([gauge('a', [{ labels: { 'bad-name': 'x' }, value: 1 }])])).toThrow(
      /invalid label name/,
    );
    expect(() => renderExposition([gauge('a', [{ labels: { __reserved: 'x' }, value: 1 }])])).toThrow(
      /invalid label name/,
    );
    expect(() =>
      renderExposition([
        gauge('a', [
          { labels: { c: 'x' }, value: 1 },
          { labels: { c: 'x' }, value: 2 },
        ]),
      ]),
    ).toThrow(/twice/);
  });

  it('renders nothing at all when no family has samples', () => {
    expect(renderExposition([{ name: 'a', help: 'h', type: 'gauge', samples: [] }])).toBe('');
  });
});
