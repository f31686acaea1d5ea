import type { ReactNode } from 'react'

import { Link } from './router.tsx'

/** The top of a detail page: where it sits, its name, and what just happened or went wrong. */
export function PageHead({
  parent,
  name,
  flash,
  error,
}: {
  parent: { to: string; label: string }
  name: string
  flash?: ReactNode
  error?: string
}) {
  return (
    <>
      <p className="crumbs">
        <Link to={parent.to}>{parent.label}</Link> / {name}
      </p>
      <h1>{name}</h1>
      {flash && (
        <p className="notice" role="status">
          {flash}
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </>
  )
}
