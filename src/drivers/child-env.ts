/**
 * The environment of every program Deckhand starts (process replicas, command scripts, git builds):
 * an explicit list, not Deckhand's own environment minus a few names, so that a secret set for
 * Deckhand (a database URL, a cloud key, a `${VAR}` of the config file) never reaches a child
 * unless the operator names it in DECKHAND_PASS_ENV.
 */

// What a program needs to run at all: where commands are, a home, a locale and a clock.
const BASE_VARIABLES = ['PATH', 'HOME', 'LANG', 'TZ']

/** `PATH`, `HOME`, `LANG`, `TZ` and the variables DECKHAND_PASS_ENV (a comma list) names, from `from`. */
export function childEnv(from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const passed = (from.DECKHAND_PASS_ENV ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '')
  const env: Record<string, string> = {}
  for (const name of [...BASE_VARIABLES, ...passed]) {
    const value = from[name]
    if (value !== undefined) {
      env[name] = value
    }
  }
  return env
}
