// The shell: sign-in gate, top bar, and which page a path shows.
import { useEffect, useState } from 'react'
import { clearToken, readToken, saveToken, setUnauthorizedListener } from './api.ts'
import { CallsPage } from './CallsPage.tsx'
import { DeploymentPage } from './DeploymentPage.tsx'
import { Link, navigate, usePath } from './router.tsx'
import { ServicePage } from './ServicePage.tsx'
import { ServicesPage } from './ServicesPage.tsx'
import { SignIn } from './SignIn.tsx'

export function App() {
  const [token, setToken] = useState(readToken)
  const [notice, setNotice] = useState<string>()
  const path = usePath()

  useEffect(() => {
    setUnauthorizedListener(() => {
      clearToken()
      setToken(null)
      setNotice('The server no longer accepts this admin token (401). Sign in with a valid one.')
    })
  }, [])

  if (!token) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(value) => {
          saveToken(value)
          setToken(value)
          setNotice(undefined)
        }}
      />
    )
  }

  const signOut = () => {
    clearToken()
    setToken(null)
    setNotice('You are signed out.')
    navigate('/')
  }

  return (
    <>
      <header className="topbar">
        <Link to="/" className="brand">
          Deckhand
        </Link>
        <nav aria-label="Main">
          <Link to="/" aria-current={path === '/' ? 'page' : undefined} className={path === '/' || /^\/(services|deployments)/.test(path) ? 'active' : undefined}>
            Services
          </Link>
          <Link to="/calls" className={path.startsWith('/calls') ? 'active' : undefined}>
            Calls
          </Link>
        </nav>
        <button type="button" className="secondary" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main>
        <Page path={path} />
      </main>
    </>
  )
}

function Page({ path }: { path: string }) {
  const service = /^\/services\/([^/]+)(?:\/(triggers|deployments))?\/?$/.exec(path)
  if (service) {
    const tab = service[2] === 'deployments' ? 'deployments' : 'triggers'
    return <ServicePage key={service[1]} name={decodeURIComponent(service[1]!)} tab={tab} />
  }
  const deployment = /^\/deployments\/([^/]+)\/?$/.exec(path)
  if (deployment) {
    return <DeploymentPage key={deployment[1]} id={decodeURIComponent(deployment[1]!)} />
  }
  if (path.startsWith('/calls')) {
    return <CallsPage />
  }
  if (path === '/' || path === '/services') {
    return <ServicesPage />
  }
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        Nothing lives at <code>{path}</code>. <Link to="/">Go to the services.</Link>
      </p>
    </section>
  )
}
