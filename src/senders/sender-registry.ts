// Which sender a call came from: every sender in recognition order, and lookup by id.
import type { SenderId } from '../model/index.ts'
import { AcrSender } from './acr-sender.ts'
import { AlertmanagerSender } from './alertmanager-sender.ts'
import { BitbucketSender } from './bitbucket-sender.ts'
import { DockerHubSender } from './docker-hub-sender.ts'
import { GenericSender } from './generic-sender.ts'
import { GiteaSender } from './gitea-sender.ts'
import { GitHubSender } from './github-sender.ts'
import { GitLabSender } from './gitlab-sender.ts'
import { HarborSender } from './harbor-sender.ts'
import { QuaySender } from './quay-sender.ts'
import { RegistrySender } from './registry-sender.ts'
import type { Sender, SenderRequest } from './sender.ts'

/**
 * Recognition order. Header-named senders come first, Gitea/Forgejo before GitHub because
 * they also send `X-GitHub-Event`, then the registry by its content type; then senders known
 * by their body's shape; generic last, since it takes anything.
 */
export const SENDERS: readonly Sender[] = Object.freeze([
  new GiteaSender(),
  new GitHubSender(),
  new GitLabSender(),
  new BitbucketSender(),
  new RegistrySender(),
  new AlertmanagerSender(),
  new DockerHubSender(),
  new HarborSender(),
  new QuaySender(),
  new AcrSender(),
  new GenericSender(),
])

const byId = new Map<string, Sender>(SENDERS.map((sender) => [sender.id, sender]))

/** The first sender that recognises the request; the generic sender when none does. */
export function recogniseSender(request: SenderRequest): Sender {
  return SENDERS.find((sender) => sender.recognise(request)) ?? (byId.get('generic') as Sender)
}

/** The sender with this id; undefined for `auto` and for unknown ids. */
export function senderById(id: string): Sender | undefined {
  return byId.get(id)
}

/** The sender a trigger names, or the recognised one when it says `auto`. */
export function senderFor(request: SenderRequest, id: SenderId): Sender {
  return senderById(id) ?? recogniseSender(request)
}
