import assert from 'node:assert/strict'
import { test } from 'node:test'

import { matchesGlob } from './path-match.ts'

test('git.paths globs match files the way a monorepo owner expects', () => {
  const cases: [string, string, boolean][] = [
    ['services/web/**', 'services/web/src/app.ts', true],
    ['services/web/**', 'services/api/src/app.ts', false],
    ['**/*.md', 'README.md', true],
    ['**/*.md', 'docs/a/b.md', true],
    ['*.ts', 'src/a.ts', false],
    ['src/?.ts', 'src/a.ts', true],
    ['src/a.ts', 'src/a_ts', false],
    ['./Dockerfile', 'Dockerfile', true],
  ]
  for (const [pattern, file, expected] of cases) {
    assert.equal(matchesGlob(pattern, file), expected, `${pattern} vs ${file}`)
  }
})
