/**
 * The catalogue seam: services, stacks and their triggers, as the admin API, the config file
 * and the hooks intake (a trigger found by its token's hash) read and change them.
 */
import type { Page, PageRequest, Service, Stack, Trigger, TriggerOptions } from '../model/index.ts'
import type { ServiceInput, StackInput, TriggerInput } from './store.ts'

export interface CatalogueStore {
  /** Services, newest first. */
  listServices(page: PageRequest): Promise<Page<Service>>
  /** The service with this name; undefined when there is none. */
  getService(name: string): Promise<Service | undefined>
  /** Creates the service; throws a DH_ERR_CONFLICT DeckhandError when the name is taken. */
  createService(input: ServiceInput): Promise<Service>
  /** Replaces the stored definition of an existing service; undefined when there is none. */
  replaceService(input: ServiceInput): Promise<Service | undefined>
  /** Deletes the service with its triggers; false when there was none. */
  deleteService(name: string): Promise<boolean>
  /** Records what a finished deployment left running. */
  setServiceState(
    name: string,
    state: { replicas?: number | null; tag?: string | null },
  ): Promise<void>

  /** Stacks, newest first. */
  listStacks(page: PageRequest): Promise<Page<Stack>>
  /** The stack with this name; undefined when there is none. */
  getStack(name: string): Promise<Stack | undefined>
  /** Creates the stack; throws a DH_ERR_CONFLICT DeckhandError when the name is taken. */
  createStack(input: StackInput): Promise<Stack>
  /** Replaces an existing stack's services; undefined when there is none. */
  replaceStack(input: StackInput): Promise<Stack | undefined>
  /** Deletes the stack and revokes its triggers; false when there was none. */
  deleteStack(name: string): Promise<boolean>

  /** Creates a trigger; throws DH_ERR_CONFLICT when its owner has a live one of that name. */
  createTrigger(input: TriggerInput): Promise<Trigger>
  /** The trigger with this id, revoked or not; undefined when unknown. */
  getTrigger(id: string): Promise<Trigger | undefined>
  /** The live trigger whose token hashes to `tokenHash`; revoked ones are never found. */
  findTriggerByTokenHash(tokenHash: string): Promise<Trigger | undefined>
  /** Live triggers, newest first; with `includeRevoked`, revoked ones too (their `revokedAt` set). */
  listTriggers(
    owner: { service?: string; stack?: string },
    page: PageRequest,
    options?: { includeRevoked?: boolean },
  ): Promise<Page<Trigger>>
  /** Replaces a trigger's options (not its token); undefined when unknown or revoked. */
  updateTrigger(id: string, options: TriggerOptions): Promise<Trigger | undefined>
  /** Forgets the token hash at once; false when unknown or already revoked. */
  revokeTrigger(id: string): Promise<boolean>
  /** Gives a live trigger a new token hash: the old URL stops working at the commit. */
  rotateTrigger(id: string, tokenHash: string): Promise<Trigger | undefined>
}
