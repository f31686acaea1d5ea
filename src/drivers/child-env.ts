/**
 * The environment of every program Deckhand starts (process replicas, command scripts, git builds,
 * deploy hooks, credential helpers): an explicit list, not Deckhand's own environment minus a few
 * names, so that a secret set for Deckhand (a database URL, a cloud key, a `${VAR}` of the config
 * file) never reaches a child unless the operator names it in DECKHAND_PASS_ENV.
 */

// What a program needs to run at all: where commands are, a home, a locale and a clock.
const BASE_VARIABLES = ['PATH', 'HOME', 'LANG', 'TZ']

// The process has one environment, so one list of names passed from it: the server sets it at
// start from its settings (ServerSettings.passEnv), and nothing reads DECKHAND_PASS_ENV here.
let passedNames: readonly string[] = []

/** Makes `names` (ServerSettings.passEnv, from DECKHAND_PASS_ENV) pass to every child. */
export function passToChildren(names: readonly string[]): void {
  passedNames = Object.freeze([...names])
}

/** `PATH`, `HOME`, `LANG`, `TZ` and the variables `names` lists, as `from` has them. */
export function childEnv(
  from: NodeJS.ProcessEnv = process.env,
  names: readonly string[] = passedNames,
): Record<string, string> {
  const env: Record<string, string> = {}
  for (const name of [...BASE_VARIABLES, ...names]) {
    const value = from[name]
    if (value !== undefined) {
      env[name] = value
    }
  }
  return env
}
