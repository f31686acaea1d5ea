/** The logs seam: a deployment's lines, written by the worker's LogBuffer, read by the API. */
import type { LogLine } from '../model/index.ts'

export interface LogStore {
  /** Appends lines after the deployment's last one, numbered on from its last seq. */
  appendLog(deploymentId: string, lines: Omit<LogLine, 'seq'>[]): Promise<void>
  /** Log lines after `afterSeq`, oldest first, at most `limit`. */
  readLog(deploymentId: string, afterSeq: number, limit: number): Promise<LogLine[]>
}
