/**
 * The sender interface: how a request from Docker Hub, GitHub, Alertmanager, … is recognised,
 * verified and turned into one normalised event. Senders do no I/O: the body is buffered.
 */
import type { SenderId } from '../model/index.ts'

/** The parts of an HTTP request a sender looks at. Header names are lower-case. */
export interface SenderRequest {
  headers: Readonly<Record<string, string | undefined>>
  /** The raw body bytes, exactly as received (signatures are computed over these). */
  body: Buffer
  query: Readonly<Record<string, string | undefined>>
}

export interface AlertSummary {
  name: string
  status: 'firing' | 'resolved'
  labels: Record<string, string>
}

/** One tagged image push of a call that carries several (a registry's batch of events). */
export interface ImagePush {
  image: string
  tag: string
  /** The registry's host (`127.0.0.1:5000`, `docker.io`), normalised, when the sender names it. */
  registry?: string
}

/** What a call says, whoever sent it. Absent fields are unknown. */
export interface SenderEvent {
  kind: 'push' | 'ping' | 'alert' | 'plain'
  /** Git repository as `owner/name` (lower-case), for git-backed services. */
  repository?: string
  /** Image repository without registry host or tag, e.g. `acme/web`. */
  image?: string
  tag?: string
  /**
   * The registry `image` was pushed to, normalised (`registry.acme.example:5000`), when the
   * sender names it: image services then match the registry host as well as the repository.
   */
  registry?: string
  /**
   * Every distinct tagged push of a call that carries more than one, in order; `image`, `tag`
   * and `registry` are then the last. Each service takes the last push of its own image.
   */
  pushes?: ImagePush[]
  branch?: string
  commit?: string
  /** Files the push changed, for `git.paths`; undefined when the sender does not say. */
  changedFiles?: string[]
  /** For alerts: the group's status, and the alerts that drove it. */
  alertStatus?: 'firing' | 'resolved'
  alerts?: AlertSummary[]
  deliveryId?: string
  callbackUrl?: string
}

export type SenderParse =
  { ok: true; event: SenderEvent } | { ok: false; ignored: string } | { ok: false; invalid: string }

export type SignatureCheck = 'valid' | 'missing' | 'invalid'

export interface Sender {
  readonly id: Exclude<SenderId, 'auto'>
  /** Cheap: looks at headers first, then at the body's shape. */
  recognise(request: SenderRequest): boolean
  /** Compares the request's signature or token with `secret` in constant time. */
  verify(request: SenderRequest, secret: string): SignatureCheck
  /** Reads the event, or says why the call has nothing to do, or why the body is not this sender's. */
  parse(request: SenderRequest): SenderParse
}
