// A trigger's call conditions (`match`) as rows: all or any of them must hold, each a source
// (header, query parameter, body path), an operator and a value, optionally negated. Nested
// groups are written as JSON in the same place.
import {
  MATCH_GROUPS,
  MATCH_OPERATORS,
  MATCH_SOURCES,
  type MatchOperator,
  type MatchSource,
} from '../../src/model/index.ts'
import type { Problem } from './api.ts'
import { Field } from './Field.tsx'
import type { CallMatch } from './types.ts'

/** The groups a list of rows can form; `not` is a row's own checkbox. */
const LIST_GROUPS = MATCH_GROUPS.filter((group) => group !== 'not')
type ListGroup = (typeof LIST_GROUPS)[number]

export interface ConditionRow {
  negate: boolean
  source: MatchSource
  name: string
  operator: MatchOperator
  /** As typed: `in` takes a comma-separated list, `exists` is `true` or `false`. */
  value: string
}

export interface MatchDraft {
  group: ListGroup
  rows: ConditionRow[]
  /** The match written as JSON instead of rows; undefined while the rows are edited. */
  json?: string
}

const JSON_HINT =
  'groups "all", "any", "not" of conditions {"header"|"query"|"body": "…", ' +
  '"equals"|"in"|"regex"|"exists": …}; empty for none'

/** What the JSON box starts with when there are no rows yet (docs/release-control.md). */
const JSON_EXAMPLE: CallMatch = {
  all: [
    { header: 'X-GitHub-Event', equals: 'push' },
    { not: { body: 'head_commit.message', regex: '\\[skip deploy\\]' } },
  ],
}

export const EMPTY_MATCH: MatchDraft = { group: 'all', rows: [] }

const SOURCE_LABELS: Record<MatchSource, { label: string; placeholder: string }> = {
  header: { label: 'Header name', placeholder: 'X-GitHub-Event' },
  query: { label: 'Query parameter', placeholder: 'env' },
  body: { label: 'Body path', placeholder: 'commits[0].id' },
}

const VALUE_HINTS: Record<MatchOperator, string> = {
  equals: 'compared as text',
  in: 'comma separated',
  regex: 'RE2; found anywhere unless anchored with ^…$',
  exists: '',
}

function condition(row: ConditionRow): CallMatch {
  const name = row.name.trim()
  const value =
    row.operator === 'in'
      ? row.value
          .split(',')
          .map((part) => part.trim())
          .filter(Boolean)
      : row.operator === 'exists'
        ? row.value !== 'false'
        : row.value
  const node = { [row.source]: name, [row.operator]: value } as CallMatch
  return row.negate ? { not: node } : node
}

/** The rows as a `match`: null when there are none. */
function rowsMatch(draft: MatchDraft): CallMatch | null {
  return draft.rows.length === 0 ? null : { [draft.group]: draft.rows.map(condition) }
}

/**
 * The `match` to send: null when there are no rows or the JSON box is empty. JSON that does not
 * parse throws; the API checks the shape of what does, and names the field.
 */
export function matchBody(draft: MatchDraft): CallMatch | null {
  if (draft.json === undefined) {
    return rowsMatch(draft)
  }
  return draft.json.trim() === '' ? null : (JSON.parse(draft.json) as CallMatch)
}

/** Where the API's path for row `index` starts: `match.all.0`, or `match.all.0.not`. */
function rowPath(draft: MatchDraft, index: number): string {
  return `match.${draft.group}.${index}${draft.rows[index]?.negate ? '.not' : ''}`
}

/**
 * The API's problems with `match`, by the row field they name (`0.name`, `0.value`, `0` for the
 * row) or `match` for the whole; the rest are left for the form.
 */
export function sortMatchProblems(draft: MatchDraft, problems: Problem[]) {
  const byField: Record<string, string> = {}
  const others: Problem[] = []
  const add = (key: string, message: string) => {
    byField[key] = byField[key] ? `${byField[key]}; ${message}` : message
  }
  for (const problem of problems) {
    const path = problem.path.join('.')
    if (draft.json !== undefined && (path === 'match' || path.startsWith('match.'))) {
      add('match', `${path}: ${problem.message}`)
      continue
    }
    const index = draft.rows.findIndex((_, i) => `${path}.`.startsWith(`${rowPath(draft, i)}.`))
    if (index >= 0) {
      const rest = path.slice(rowPath(draft, index).length + 1).split('.')[0] ?? ''
      const row = draft.rows[index]!
      const key = rest === row.source ? 'name' : rest === row.operator ? 'value' : ''
      add(key ? `${index}.${key}` : String(index), problem.message)
    } else if (path === 'match' || path.startsWith('match.')) {
      add('match', problem.message)
    } else {
      others.push(problem)
    }
  }
  return { byField, others }
}

export function MatchEditor({
  draft,
  errors,
  onChange,
}: {
  draft: MatchDraft
  errors: Record<string, string | undefined>
  onChange: (draft: MatchDraft) => void
}) {
  const setRow = (index: number, part: Partial<ConditionRow>) =>
    onChange({ ...draft, rows: draft.rows.map((r, i) => (i === index ? { ...r, ...part } : r)) })
  const add = () =>
    onChange({
      ...draft,
      rows: [
        ...draft.rows,
        { negate: false, source: 'header', name: '', operator: 'equals', value: '' },
      ],
    })
  const intro = (
    <p className="hint">
      Optional. A call that does not meet them is answered 200 ignored, with the first condition it
      failed, and deploys nothing. Example: header <code>X-GitHub-Event</code> equals{' '}
      <code>push</code>, and body <code>ref</code> matches <code>^refs/heads/main$</code>.
    </p>
  )
  if (draft.json !== undefined) {
    return (
      <fieldset className="match-editor">
        <legend>Call conditions</legend>
        {intro}
        <Field id="match-json" label="Conditions as JSON" hint={JSON_HINT} error={errors.match}>
          <textarea
            id="match-json"
            className="mono"
            rows={8}
            spellCheck={false}
            value={draft.json}
            onChange={(e) => onChange({ ...draft, json: e.target.value })}
          />
        </Field>
        <div>
          <button
            type="button"
            className="secondary small"
            onClick={() => onChange({ ...draft, json: undefined })}
          >
            Edit as rows
          </button>
        </div>
      </fieldset>
    )
  }
  const asJson = () =>
    onChange({ ...draft, json: JSON.stringify(rowsMatch(draft) ?? JSON_EXAMPLE, null, 2) })
  return (
    <fieldset className="match-editor">
      <legend>Call conditions</legend>
      {intro}
      {errors.match && <p className="field-error">{errors.match}</p>}
      {draft.rows.length > 1 && (
        <Field id="match-group" label="A call must meet">
          <select
            id="match-group"
            value={draft.group}
            onChange={(e) => onChange({ ...draft, group: e.target.value as ListGroup })}
          >
            {LIST_GROUPS.map((group) => (
              <option key={group} value={group}>
                {group === 'all' ? 'all of these' : 'any of these'}
              </option>
            ))}
          </select>
        </Field>
      )}
      <ol className="condition-rows">
        {draft.rows.map((row, index) => {
          const id = `match-${index}`
          return (
            <li key={index} className="condition-row" aria-label={`Condition ${index + 1}`}>
              {errors[String(index)] && <p className="field-error">{errors[String(index)]}</p>}
              <div className="row">
                <Field id={`${id}-source`} label="Source">
                  <select
                    id={`${id}-source`}
                    value={row.source}
                    onChange={(e) => setRow(index, { source: e.target.value as MatchSource })}
                  >
                    {MATCH_SOURCES.map((source) => (
                      <option key={source}>{source}</option>
                    ))}
                  </select>
                </Field>
                <Field
                  id={`${id}-name`}
                  label={SOURCE_LABELS[row.source].label}
                  error={errors[`${index}.name`]}
                >
                  <input
                    id={`${id}-name`}
                    className="mono"
                    spellCheck={false}
                    value={row.name}
                    placeholder={SOURCE_LABELS[row.source].placeholder}
                    onChange={(e) => setRow(index, { name: e.target.value })}
                  />
                </Field>
                <Field id={`${id}-operator`} label="Test">
                  <select
                    id={`${id}-operator`}
                    value={row.operator}
                    onChange={(e) => {
                      const operator = e.target.value as MatchOperator
                      setRow(index, {
                        operator,
                        ...(operator === 'exists' ? { value: 'true' } : {}),
                      })
                    }}
                  >
                    {MATCH_OPERATORS.map((operator) => (
                      <option key={operator}>{operator}</option>
                    ))}
                  </select>
                </Field>
                {row.operator === 'exists' ? (
                  <Field id={`${id}-value`} label="Value" error={errors[`${index}.value`]}>
                    <select
                      id={`${id}-value`}
                      value={row.value === 'false' ? 'false' : 'true'}
                      onChange={(e) => setRow(index, { value: e.target.value })}
                    >
                      <option value="true">is there</option>
                      <option value="false">is not there</option>
                    </select>
                  </Field>
                ) : (
                  <Field
                    id={`${id}-value`}
                    label="Value"
                    hint={VALUE_HINTS[row.operator]}
                    error={errors[`${index}.value`]}
                  >
                    <input
                      id={`${id}-value`}
                      className="mono"
                      spellCheck={false}
                      value={row.value}
                      onChange={(e) => setRow(index, { value: e.target.value })}
                    />
                  </Field>
                )}
              </div>
              <div className="condition-tools">
                <label className="check">
                  <input
                    type="checkbox"
                    checked={row.negate}
                    onChange={(e) => setRow(index, { negate: e.target.checked })}
                  />
                  Must not hold
                </label>
                <button
                  type="button"
                  className="secondary small"
                  onClick={() =>
                    onChange({ ...draft, rows: draft.rows.filter((_, i) => i !== index) })
                  }
                >
                  Remove<span className="visually-hidden"> condition {index + 1}</span>
                </button>
              </div>
            </li>
          )
        })}
      </ol>
      <div className="condition-tools">
        <button type="button" className="secondary small" onClick={add}>
          Add a condition
        </button>
        <button type="button" className="secondary small" onClick={asJson}>
          Write as JSON (nested groups)
        </button>
      </div>
    </fieldset>
  )
}
