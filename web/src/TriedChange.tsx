// What a redeploy or rollback that did not succeed tried, as the API gives it (secrets
// redacted): the service was put back to what runs, so the attempt is visible only here.
import { Fragment, type ReactNode } from 'react'

import type { Deployment } from './types.ts'

export function TriedChange({ tried }: { tried: Deployment['tried'] }) {
  if (!tried) {
    return null
  }
  const parts: [string, ReactNode][] = []
  if (tried.tag !== undefined) {
    parts.push([
      'tag',
      <>
        tag <span className="mono">{tried.tag}</span>
      </>,
    ])
  }
  if (tried.image !== undefined) {
    parts.push([
      'image',
      <>
        image <span className="mono">{tried.image ?? 'none'}</span>
      </>,
    ])
  }
  if (tried.target !== undefined) {
    parts.push(['target', 'the target below'])
  }
  return (
    <div data-testid="deployment-tried">
      <p className="cause">
        <strong>Tried:</strong>{' '}
        {parts.map(([key, part], index) => (
          <Fragment key={key}>
            {index > 0 && ' · '}
            {part}
          </Fragment>
        ))}
        . The service was put back to what runs.
      </p>
      {tried.target && <pre className="snippet">{JSON.stringify(tried.target, null, 2)}</pre>}
    </div>
  )
}
