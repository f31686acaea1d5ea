/**
 * Bounds on what a parsed call may carry, checked before anything is matched or queued: every
 * field comes from a caller, so each has a length cap and refs carry no control characters,
 * which would reach a child's environment, a git command line and the deployment log.
 */
import type { SenderEvent } from './sender.ts'

export const MAX_NAME_CHARS = 255
export const MAX_REF_CHARS = 255
export const MAX_COMMIT_CHARS = 64
export const MAX_CHANGED_FILE_CHARS = 4096
export const MAX_CHANGED_FILES = 3000
export const MAX_CALLBACK_URL_CHARS = 2048
/** Distinct tagged pushes one registry notification may carry. */
export const MAX_PUSHES = 100

// C0 controls, DEL and C1 controls: no git ref, image tag or repository name has one.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
const HEX = /^[0-9a-f]+$/i

/** Why the event is refused, naming the field; undefined when every field is within bounds. */
export function refuseEvent(event: SenderEvent): string | undefined {
  return (
    refuseText('repository', event.repository, MAX_NAME_CHARS) ??
    refuseText('image', event.image, MAX_NAME_CHARS) ??
    refuseText('branch', event.branch, MAX_REF_CHARS) ??
    refuseText('tag', event.tag, MAX_REF_CHARS) ??
    refuseText('registry', event.registry, MAX_NAME_CHARS) ??
    refuseCommit(event.commit) ??
    refuseChangedFiles(event.changedFiles) ??
    refuseAlerts(event.alerts) ??
    refuseText('callback_url', event.callbackUrl, MAX_CALLBACK_URL_CHARS) ??
    refusePushes(event.pushes)
  )
}

/** An alert's name and instance go into the call's note, its log line and the audit trail. */
function refuseAlerts(alerts: SenderEvent['alerts']): string | undefined {
  for (const alert of alerts ?? []) {
    const refused =
      refuseText('alert name', alert.name, MAX_NAME_CHARS) ??
      refuseText('alert instance', alert.labels.instance, MAX_NAME_CHARS)
    if (refused) {
      return refused
    }
  }
  return undefined
}

function refusePushes(pushes: SenderEvent['pushes']): string | undefined {
  if (pushes === undefined) {
    return undefined
  }
  if (pushes.length > MAX_PUSHES) {
    return `the payload pushes ${pushes.length} images; at most ${MAX_PUSHES} are accepted`
  }
  for (const push of pushes) {
    const refused =
      refuseText('image', push.image, MAX_NAME_CHARS) ??
      refuseText('tag', push.tag, MAX_REF_CHARS) ??
      refuseText('registry', push.registry, MAX_NAME_CHARS)
    if (refused !== undefined) {
      return refused
    }
  }
  return undefined
}

function refuseText(field: string, value: string | undefined, max: number): string | undefined {
  if (value === undefined) {
    return undefined
  }
  if (value === '') {
    // A name a trim emptied (a repository of slashes only) names nothing to match against.
    return `the payload's ${field} is empty`
  }
  if (value.length > max) {
    return `the payload's ${field} is ${value.length} characters long; at most ${max} are accepted`
  }
  if (CONTROL.test(value)) {
    return `the payload's ${field} contains a control character (NUL, newline, …); it is not a name a sender makes`
  }
  return undefined
}

function refuseCommit(commit: string | undefined): string | undefined {
  if (commit === undefined) {
    return undefined
  }
  if (commit.length > MAX_COMMIT_CHARS || !HEX.test(commit)) {
    return `the payload's commit must be a hexadecimal object name of at most ${MAX_COMMIT_CHARS} characters`
  }
  return undefined
}

function refuseChangedFiles(files: string[] | undefined): string | undefined {
  if (files === undefined) {
    return undefined
  }
  if (files.length > MAX_CHANGED_FILES) {
    return `the payload's changed files list ${files.length} files; at most ${MAX_CHANGED_FILES} are accepted`
  }
  const long = files.findIndex((file) => file.length > MAX_CHANGED_FILE_CHARS)
  if (long !== -1) {
    return `the payload's changed file ${long + 1} is ${files[long]!.length} characters long; at most ${MAX_CHANGED_FILE_CHARS} are accepted`
  }
  return undefined
}
