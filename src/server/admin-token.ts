/**
 * The first admin token: DECKHAND_ADMIN_TOKEN when given, else one made at first start and
 * printed once to the terminal (never to the structured log).
 */
import { newId } from '../model/ids.ts'
import { knownSecrets } from '../model/secret-redactor.ts'
import type { TokenStore } from '../store/store.ts'
import { hashToken, makeToken } from '../triggers/token.ts'

export async function bootstrapAdminToken(
  store: TokenStore,
  fromEnv: string | undefined,
  announce: (text: string) => void,
): Promise<void> {
  if (fromEnv !== undefined) {
    knownSecrets.remember(fromEnv)
    const tokenHash = hashToken(fromEnv)
    if (!(await store.useAdminToken(tokenHash))) {
      try {
        await store.createAdminToken({ id: newId('tok'), name: 'DECKHAND_ADMIN_TOKEN', tokenHash })
      } catch (error) {
        // Instances sharing one database start together; the one that lost the insert finds
        // the token its sibling stored, and starts too.
        if (!(await store.useAdminToken(tokenHash))) {
          throw error
        }
      }
    }
    return
  }
  if ((await store.countAdminTokens()) > 0) {
    return
  }
  const token = makeToken()
  await store.createAdminToken({
    id: newId('tok'),
    name: 'first-start',
    tokenHash: hashToken(token),
  })
  announce(
    `\nDeckhand created an admin token. It is shown only this once; keep it somewhere safe:\n\n  ${token}\n\n` +
      `Use it as DECKHAND_TOKEN for the CLI, or Authorization: Bearer <token> for the API.\n\n`,
  )
}
