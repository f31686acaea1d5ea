// A service's last 30 days of deployments: per-day count (failed in red), failure rate, duration.
import 'uplot/dist/uPlot.min.css'

import { useEffect, useRef } from 'react'
import uPlot from 'uplot'

import type { Deployment } from './types.ts'

const DAY_MS = 24 * 60 * 60 * 1000
export const CHART_DAYS = 30
const HALF_DAY_S = 12 * 60 * 60

export interface DayStats {
  /** The day's start, epoch seconds (uPlot's x unit). */
  day: number
  count: number
  failed: number
  /** Median seconds from start to end of the day's finished deployments; null when none. */
  medianSeconds: number | null
}

function median(values: number[]): number | null {
  if (values.length === 0) {
    return null
  }
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** One entry per local day, oldest first, ending today; deployments older than that are left out. */
export function dailyStats(deployments: Deployment[], now = new Date()): DayStats[] {
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime()
  const days = Array.from({ length: CHART_DAYS }, (_, i) => ({
    start: today - (CHART_DAYS - 1 - i) * DAY_MS,
    count: 0,
    failed: 0,
    durations: [] as number[],
  }))
  for (const d of deployments) {
    const created = Date.parse(d.createdAt)
    const index = Math.floor((created - days[0]!.start) / DAY_MS)
    const bucket = days[index]
    if (!bucket) {
      continue
    }
    bucket.count += 1
    if (d.state === 'failed') {
      bucket.failed += 1
    }
    if (d.startedAt && d.finishedAt) {
      bucket.durations.push((Date.parse(d.finishedAt) - Date.parse(d.startedAt)) / 1000)
    }
  }
  return days.map((b) => ({
    day: b.start / 1000,
    count: b.count,
    failed: b.failed,
    medianSeconds: median(b.durations),
  }))
}

function summary(days: DayStats[], deployments: Deployment[]): string {
  const count = days.reduce((sum, d) => sum + d.count, 0)
  if (count === 0) {
    return `No deployments in the last ${CHART_DAYS} days.`
  }
  const failed = days.reduce((sum, d) => sum + d.failed, 0)
  const since = (days[0]?.day ?? 0) * 1000
  const durations = deployments
    .filter((d) => Date.parse(d.createdAt) >= since && d.startedAt && d.finishedAt)
    .map((d) => (Date.parse(d.finishedAt!) - Date.parse(d.startedAt!)) / 1000)
  const typical = median(durations)
  const rate = Math.round((failed / count) * 100)
  return [
    `${count} deployment${count === 1 ? '' : 's'} in the last ${CHART_DAYS} days`,
    `${rate}% failed`,
    typical === null
      ? 'none finished'
      : `median duration ${typical < 10 ? typical.toFixed(1) : Math.round(typical)} s`,
  ].join(', ')
}

export function DeploymentChart({ deployments }: { deployments: Deployment[] }) {
  const box = useRef<HTMLDivElement>(null)
  const days = dailyStats(deployments)
  const key = JSON.stringify(days)

  useEffect(() => {
    const element = box.current
    if (!element) {
      return
    }
    const bars = uPlot.paths.bars!({ size: [0.7, 40] })
    const data: uPlot.AlignedData = [
      days.map((d) => d.day),
      // null, not 0: a day without deployments draws no bar at all.
      days.map((d) => d.count || null),
      // Drawn over the total's bar, so a day's failed part reads as its red bottom.
      days.map((d) => d.failed || null),
      days.map((d) => d.medianSeconds),
    ]
    const width = () => Math.max(260, element.clientWidth)
    const chart = new uPlot(
      {
        width: width(),
        height: 180,
        scales: {
          // Half a day of room each side, so the first and last bars are drawn whole.
          x: { time: true, range: (_u, min, max) => [min - HALF_DAY_S, max + HALF_DAY_S] },
          count: { range: (_u, _min, max) => [0, Math.max(1, max)] },
        },
        axes: [
          { space: 60 },
          { scale: 'count', label: 'deployments', size: 50 },
          { scale: 's', side: 1, label: 'seconds', grid: { show: false }, size: 50 },
        ],
        series: [
          {},
          {
            label: 'deployments',
            scale: 'count',
            paths: bars,
            fill: '#9bb6cc',
            stroke: '#234e70',
            points: { show: false },
          },
          {
            label: 'failed',
            scale: 'count',
            paths: bars,
            fill: '#d9767d',
            stroke: '#a3222b',
            points: { show: false },
          },
          { label: 'median duration (s)', scale: 's', stroke: '#c27c00', width: 2, spanGaps: true },
        ],
        legend: { live: false },
      },
      data,
      element,
    )
    const resize = new ResizeObserver(() => chart.setSize({ width: width(), height: 180 }))
    resize.observe(element)
    return () => {
      resize.disconnect()
      chart.destroy()
    }
    // `key` stands for `days`: a new array every render, the same numbers most of the time.
  }, [key])

  return (
    <figure className="chart card" aria-labelledby="chart-summary">
      <figcaption id="chart-summary" data-testid="chart-summary">
        {summary(days, deployments)}
      </figcaption>
      <div ref={box} className="chart-box" data-testid="deployment-chart" />
    </figure>
  )
}
