// Reading a real config.json and running real credential helpers (shell scripts on PATH).
import assert from 'node:assert/strict'
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'

import { passToChildren } from '../drivers/child-env.ts'
import { registryHostOf } from '../model/registry-host.ts'
import { redactSecrets } from '../model/secret-redactor.ts'
import { defaultRegistryAuthPath, RegistryCredentials } from './registry-credentials.ts'

let dir = ''
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dh-credentials-'))
})
after(() => rm(dir, { recursive: true, force: true }))

let serial = 0
async function credentialsWith(
  config: unknown,
  env: NodeJS.ProcessEnv = {},
): Promise<RegistryCredentials> {
  const path = join(dir, `config-${++serial}.json`)
  await writeFile(path, typeof config === 'string' ? config : JSON.stringify(config))
  return new RegistryCredentials(path, { PATH: `${dir}:${process.env.PATH ?? ''}`, ...env })
}

/** A `docker-credential-<name>` script that runs `body` (sh). */
async function helper(name: string, body: string): Promise<void> {
  const file = join(dir, `docker-credential-${name}`)
  await writeFile(file, `#!/bin/sh\n${body}\n`)
  await chmod(file, 0o755)
}

const basic = (user: string, password: string) =>
  Buffer.from(`${user}:${password}`).toString('base64')

describe('registry hosts', () => {
  it('reads the host as Docker does, and every Docker Hub name as docker.io', () => {
    assert.equal(registryHostOf('nginx'), 'docker.io')
    assert.equal(registryHostOf('acme/web:1'), 'docker.io')
    assert.equal(registryHostOf('index.docker.io/acme/web'), 'docker.io')
    assert.equal(registryHostOf('registry-1.docker.io/library/nginx'), 'docker.io')
    assert.equal(
      registryHostOf('Registry.Acme.Example:5000/acme/web@sha256:00'),
      'registry.acme.example:5000',
    )
    assert.equal(registryHostOf('localhost/web'), 'localhost')
  })

  it('defaults to $DOCKER_CONFIG/config.json, then ~/.docker/config.json', () => {
    assert.equal(
      defaultRegistryAuthPath({ DOCKER_CONFIG: '/etc/dh', HOME: '/home/x' }),
      '/etc/dh/config.json',
    )
    assert.equal(defaultRegistryAuthPath({ HOME: '/home/x' }), '/home/x/.docker/config.json')
  })
})

describe('RegistryCredentials', () => {
  it('reads auths entries in each of their forms, keyed by host or URL', async () => {
    const credentials = await credentialsWith({
      auths: {
        'https://index.docker.io/v1/': { auth: basic('hub-user', 'hub-password-1') },
        'registry.acme.example:5000': { username: 'acme', password: 'acme-password-1' },
        'ghcr.io': { identitytoken: 'ghcr-identity-token-1' },
      },
    })
    assert.deepEqual((await credentials.forImage('acme/web:1')).auth, {
      username: 'hub-user',
      password: 'hub-password-1',
      serveraddress: 'docker.io',
    })
    assert.deepEqual((await credentials.forImage('registry.acme.example:5000/acme/web')).auth, {
      username: 'acme',
      password: 'acme-password-1',
      serveraddress: 'registry.acme.example:5000',
    })
    assert.deepEqual((await credentials.forImage('ghcr.io/acme/web')).auth, {
      identitytoken: 'ghcr-identity-token-1',
      serveraddress: 'ghcr.io',
    })
    const none = await credentials.forImage('quay.io/acme/web')
    assert.equal(none.auth, undefined)
    assert.match(none.source, /config-\d+\.json \(auths\)$/)
  })

  it("takes Docker Hub's credentials under docker login's key before other names of it", async () => {
    // Keys as a file edited by hand over the years holds them: a stale one after the real one.
    const credentials = await credentialsWith({
      auths: {
        'https://index.docker.io/v1/': { auth: basic('hub-user', 'hub-current') },
        'registry-1.docker.io': { auth: basic('hub-user', 'hub-stale') },
        'https://registry.acme.example:5000/v2/': { auth: basic('acme', 'acme-stale') },
        'registry.acme.example:5000': { auth: basic('acme', 'acme-current') },
      },
      credHelpers: {
        'index.docker.io': 'dh-none',
        'https://registry.acme.example:5000': 'dh-none',
      },
    })
    const asked = join(dir, 'none-asked')
    await helper(
      'dh-none',
      `read host; echo "$host" >> '${asked}'; echo "credentials not found in native keychain"; exit 1`,
    )
    const images = ['nginx', 'library/nginx', 'docker.io/acme/web', 'index.docker.io/a/b']
    for (const image of images) {
      const lookup = await credentials.forImage(image)
      assert.equal(lookup.auth && 'password' in lookup.auth && lookup.auth.password, 'hub-current')
    }
    const acme = await credentials.forImage('registry.acme.example:5000/acme/web')
    assert.equal(acme.auth && 'password' in acme.auth && acme.auth.password, 'acme-current')
    // The helpers named under another spelling were asked first, with the server docker asks.
    assert.deepEqual((await readFile(asked, 'utf8')).trim().split('\n'), [
      ...images.map(() => 'https://index.docker.io/v1/'),
      'registry.acme.example:5000',
    ])
  })

  it('redacts what it read from then on', async () => {
    const credentials = await credentialsWith({
      auths: { 'r.example': { auth: basic('u', 'redact-me-password') } },
    })
    await credentials.forImage('r.example/web')
    assert.equal(redactSecrets('engine said redact-me-password'), 'engine said [redacted]')
  })

  it('says the file is absent, and names a broken file without quoting it', async () => {
    const absent = new RegistryCredentials(join(dir, 'nope.json'))
    assert.deepEqual(await absent.forImage('r.example/web'), {
      host: 'r.example',
      source: `${join(dir, 'nope.json')} (absent)`,
    })
    const broken = await credentialsWith('{"auths": {"r.example": {"auth": "c2VjcmV0LXNlY3JldA=="')
    await assert.rejects(broken.forImage('r.example/web'), (error: Error) => {
      assert.match(error.message, /config-\d+\.json is not valid JSON$/)
      assert.equal(error.message.includes('c2VjcmV0'), false)
      return true
    })
  })

  it('asks the credHelpers helper for its registry, the host on stdin, before auths', async () => {
    await helper(
      'dhunit',
      'read host; printf \'{"ServerURL":"%s","Username":"via-%s","Secret":"helper-secret-1"}\' "$host" "$host"',
    )
    const credentials = await credentialsWith({
      auths: { 'r.example': { auth: basic('file-user', 'file-password') } },
      credHelpers: { 'r.example': 'dhunit' },
    })
    const lookup = await credentials.forImage('r.example/web')
    assert.deepEqual(lookup.auth, {
      username: 'via-r.example',
      password: 'helper-secret-1',
      serveraddress: 'r.example',
    })
    assert.match(lookup.source, /^docker-credential-dhunit \(credHelpers of .*config-\d+\.json\)$/)
  })

  it("asks credsStore with Docker Hub's server URL, takes <token> as an identity token", async () => {
    const asked = join(dir, 'store-asked')
    await helper(
      'dhstore',
      `read host; echo "$host" > ${asked}; printf '{"Username":"<token>","Secret":"store-token-1"}'`,
    )
    const credentials = await credentialsWith({ credsStore: 'dhstore' })
    assert.deepEqual((await credentials.forImage('nginx')).auth, {
      identitytoken: 'store-token-1',
      serveraddress: 'docker.io',
    })
    assert.equal(await readFile(asked, 'utf8'), 'https://index.docker.io/v1/\n')
  })

  it('falls back to auths when the helper has nothing for the registry', async () => {
    await helper('dhempty', 'echo "credentials not found in native keychain"; exit 1')
    const credentials = await credentialsWith({
      auths: { 'r.example': { auth: basic('file-user', 'file-password') } },
      credsStore: 'dhempty',
    })
    const lookup = await credentials.forImage('r.example/web')
    assert.equal(
      lookup.auth && 'username' in lookup.auth ? lookup.auth.username : undefined,
      'file-user',
    )
  })

  it('fails naming the helper, never its output, when it fails, is missing or is not a name', async () => {
    await helper('dhbroken', 'echo "half-printed-secret" >&2; echo "half-printed-secret"; exit 2')
    const cases: [unknown, RegExp][] = [
      [{ credsStore: 'dhbroken' }, /credential helper docker-credential-dhbroken exited with 2$/],
      [
        { credsStore: 'dhmissing' },
        /credential helper docker-credential-dhmissing is not on PATH$/,
      ],
      [{ credsStore: '../../bin/sh' }, /credsStore names "..\/..\/bin\/sh", not a helper name$/],
    ]
    for (const [config, expected] of cases) {
      const credentials = await credentialsWith(config)
      await assert.rejects(credentials.forImage('r.example/web'), (error: Error) => {
        assert.match(error.message, expected)
        assert.equal(error.message.includes('half-printed-secret'), false)
        return true
      })
    }
  })

  it('runs helpers with the explicit child environment only', async (t) => {
    // As the server does at start with its settings' DECKHAND_PASS_ENV.
    passToChildren(['GNUPGHOME'])
    t.after(() => passToChildren([]))
    const seen = join(dir, 'helper-env')
    await helper('dhenv', `env > ${seen}; printf '{"Username":"u","Secret":"env-secret-1"}'`)
    const credentials = await credentialsWith(
      { credsStore: 'dhenv' },
      {
        DECKHAND_ADMIN_TOKEN: 'admin-token-of-deckhand',
        GNUPGHOME: '/g',
      },
    )
    await credentials.forImage('r.example/web')
    const env = await readFile(seen, 'utf8')
    assert.equal(env.includes('admin-token-of-deckhand'), false)
    assert.match(env, /^GNUPGHOME=\/g$/m)
  })
})
