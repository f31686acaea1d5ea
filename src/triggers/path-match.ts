/** Glob matching for `git.paths`: `**` crosses folders, `*` and `?` stay within one. */

const cache = new Map<string, RegExp>()

export function matchesGlob(pattern: string, file: string): boolean {
  let regexp = cache.get(pattern)
  if (!regexp) {
    regexp = globToRegExp(pattern)
    cache.set(pattern, regexp)
  }
  return regexp.test(file.replace(/^\.?\//, ''))
}

function globToRegExp(pattern: string): RegExp {
  let source = ''
  const text = pattern.replace(/^\.?\//, '')
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i]!
    if (char === '*' && text[i + 1] === '*') {
      // `dir/**` matches everything below dir; `**/x` matches x at any depth.
      const slashAfter = text[i + 2] === '/'
      source += slashAfter ? '(?:.*/)?' : '.*'
      i += slashAfter ? 2 : 1
    } else if (char === '*') {
      source += '[^/]*'
    } else if (char === '?') {
      source += '[^/]'
    } else {
      source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&')
    }
  }
  return new RegExp(`^${source}$`)
}
