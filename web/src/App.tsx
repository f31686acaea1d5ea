// The shell: sign-in gate, top bar, and which page a path shows.
import { useEffect, useState } from 'react'

import { clearToken, readToken, saveToken, setUnauthorizedListener } from './api.ts'
import { CallsPage } from './CallsPage.tsx'
import { CreateServicePage } from './CreateServicePage.tsx'
import { DeploymentPage } from './DeploymentPage.tsx'
import { Link, navigate, usePath } from './router.tsx'
import { SERVICE_TABS, ServicePage } from './ServicePage.tsx'
import { ServicesPage } from './ServicesPage.tsx'
import { SignIn } from './SignIn.tsx'
import { StackPage } from './StackPage.tsx'
import { StacksPage } from './StacksPage.tsx'

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
          <NavLink to="/" path={path} section={/^\/($|services|deployments|new-service)/}>
            Services
          </NavLink>
          <NavLink to="/stacks" path={path} section={/^\/stacks/}>
            Stacks
          </NavLink>
          <NavLink to="/calls" path={path} section={/^\/calls/}>
            Calls
          </NavLink>
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

/** A main-menu link: underlined in its section, `aria-current` on its own page. */
function NavLink({
  to,
  path,
  section,
  children,
}: {
  to: string
  path: string
  section: RegExp
  children: string
}) {
  return (
    <Link to={to} current={path === to} className={section.test(path) ? 'active' : undefined}>
      {children}
    </Link>
  )
}

function Page({ path }: { path: string }) {
  if (path === '/new-service') {
    return <CreateServicePage />
  }
  const service = /^\/services\/([^/]+)(?:\/([a-z]+))?\/?$/.exec(path)
  const tab = SERVICE_TABS.find((t) => t === (service?.[2] ?? 'triggers'))
  if (service && tab) {
    return <ServicePage key={service[1]} name={decodeURIComponent(service[1]!)} tab={tab} />
  }
  const stack = /^\/stacks\/([^/]+)\/?$/.exec(path)
  if (stack) {
    return <StackPage key={stack[1]} name={decodeURIComponent(stack[1]!)} />
  }
  if (path === '/stacks' || path === '/stacks/') {
    return <StacksPage />
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
