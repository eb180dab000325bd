/**
 * Process metrics under the names other Prometheus exporters use (`process_*`, `nodejs_*`), so
 * existing dashboards work. The event-loop delay comes from Node's own sampler (one timer, cheap).
 */
import { type IntervalHistogram, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { MetricFamily } from './prometheus.js';

const RESOLUTION_MS = 20;
/** The delay figures cover a rolling window of this length (not reset per scrape: two scrapers share it). */
const DELAY_WINDOW_MS = 60_000;
const NS_PER_S = 1e9;

/** The sampler measures the whole timer interval; what lies beyond the resolution is the delay. */
const lagSeconds = (ns: number) => Math.max(0, ns - RESOLUTION_MS * 1e6) / NS_PER_S;

export class ProcessMetrics {
  private readonly loopDelay: IntervalHistogram;
  private readonly windowTimer: NodeJS.Timeout;

  constructor() {
    this.loopDelay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.loopDelay.enable();
    // Real time on purpose: this measures the real event loop, whatever clock the daemon runs on.
    this.windowTimer = setInterval(() => this.loopDelay.reset(), DELAY_WINDOW_MS);
    this.windowTimer.unref();
  }

  stop(): void {
    clearInterval(this.windowTimer);
    this.loopDelay.disable();
  }

  families(): MetricFamily[] {
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    const delay = this.loopDelay;
    const seen = delay.count > 0;
    return [
      gauge('process_resident_memory_bytes', 'Resident memory size', memory.rss),
      gauge('nodejs_heap_size_used_bytes', 'V8 heap in use', memory.heapUsed),
      gauge('nodejs_heap_size_total_bytes', 'V8 heap reserved', memory.heapTotal),
      gauge(
        'nodejs_external_memory_bytes',
        'Memory of C++ objects bound to JavaScript (buffers)',
        memory.external,
      ),
      {
        name: 'process_cpu_seconds_total',
        help: 'User and system CPU time spent',
        type: 'counter',
        samples: [{ value: (cpu.user + cpu.system) / 1e6 }],
      },
      gauge(
        'process_start_time_seconds',
        'Start time of the process since the Unix epoch',
        Math.round(performance.timeOrigin) / 1000,
      ),
      ...(seen
        ? [
            gauge(
              'nodejs_eventloop_delay_p50_seconds',
              'Median event-loop delay over the last minute or so',
              lagSeconds(delay.percentile(50)),
            ),
            gauge(
              'nodejs_eventloop_delay_p99_seconds',
              '99th percentile of the event-loop delay over the last minute or so',
              lagSeconds(delay.percentile(99)),
            ),
            gauge(
              'nodejs_eventloop_delay_max_seconds',
              'Longest event-loop delay over the last minute or so',
              lagSeconds(delay.max),
            ),
          ]
        : []),
    ];
  }
}

function gauge(name: string, help: string, value: number): MetricFamily {
  return { name, help, type: 'gauge', samples: [{ value }] };
}
