/** Builds a git-backed service's image from one commit: clone or fetch, check out, build. */
import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { join, posix } from 'node:path'

import type { PullPolicy, Service } from '../../model/index.ts'
import { childEnv } from '../child-env.ts'
import { DeployFailure } from '../deploy-failure.ts'
import {
  changeWithTag,
  type DriverContext,
  type GitBuild,
  type LogWriter,
  type RedeployChange,
} from '../driver.ts'
import type { DockerClient } from './docker-client.ts'
import { engineMessage, engineStatus } from './docker-client.ts'

/** Label on every image built here, so a rebuild of the same commit can be skipped. */
export const GIT_COMMIT_LABEL = 'dev.deckhand.git-commit'

export interface GitBuildRequest {
  client: DockerClient
  /** Work dirs live under it, one per service (`<dataDir>/git/<service>`). */
  gitDir: string
  service: string
  /** The service's image repository; the build is tagged `<image>:<short sha>`. */
  image: string | null
  build: GitBuild
  log: LogWriter
  signal: AbortSignal
}

export interface BuiltImage {
  /** The short sha, 12 characters like Docker's short ids: the tag the redeploy runs. */
  tag: string
  commit: string
}

// A sha, abbreviated or full: anything else a caller sends is not passed to git at all.
const COMMIT = /^[0-9a-f]{4,64}$/i

export async function buildFromGit(request: GitBuildRequest): Promise<BuiltImage> {
  const { build, log } = request
  if (!request.image) {
    throw new DeployFailure(
      `service ${request.service} has git.build but no image; set image (e.g. acme/web) so the build can be tagged`,
    )
  }
  if (!COMMIT.test(build.commit)) {
    throw new DeployFailure(
      `the call named commit ${JSON.stringify(build.commit)}, which is not a git sha`,
    )
  }
  const context = contextPath(build.context)
  const dir = join(request.gitDir, request.service)
  const git = (args: string[]): Promise<string> => run('git', ['-C', dir, ...args], request.signal)
  await mkdir(request.gitDir, { recursive: true })
  if (!existsSync(join(dir, '.git'))) {
    // What a clone interrupted by a crash or a cancel left behind would make git refuse.
    await rm(dir, { recursive: true, force: true })
    log(`cloning ${build.repo} into ${dir}`)
    await run('git', ['clone', '--no-checkout', '--', build.repo, dir], request.signal)
  } else {
    // git.repo may have changed since the last clone; fetch from what the service says now.
    await git(['remote', 'set-url', 'origin', build.repo])
    log(`fetching ${build.repo} into ${dir}`)
    await git(['fetch', '--prune', '--tags', 'origin', '+refs/heads/*:refs/remotes/origin/*'])
  }
  let commit = await git(['rev-parse', '--verify', '--quiet', `${build.commit}^{commit}`]).catch(
    () => '',
  )
  if (!commit) {
    // A commit on no branch (a PR head): servers that allow fetching by sha still hand it over.
    await git(['fetch', 'origin', build.commit]).catch(() => undefined)
    commit = await git(['rev-parse', '--verify', '--quiet', `${build.commit}^{commit}`]).catch(
      () => '',
    )
  }
  if (!commit) {
    throw new DeployFailure(
      `commit ${build.commit} is not in ${build.repo}; check that it was pushed and that git.repo names the repository the call came from`,
    )
  }
  await git(['-c', 'advice.detachedHead=false', 'checkout', '--force', '--detach', commit])
  await git(['clean', '-ffdxq'])
  const tag = commit.slice(0, 12)
  const reference = `${request.image}:${tag}`
  log(`checked out ${commit} in ${dir}`)
  const existing = await request.client
    .getImage(reference)
    .inspect()
    .catch((error: unknown) => {
      if (engineStatus(error) === 404) {
        return null
      }
      throw error
    })
  if (existing?.Config?.Labels?.[GIT_COMMIT_LABEL] === commit) {
    log(`image ${reference} was already built from ${commit}, not building again`)
    return { tag, commit }
  }
  await buildImage(request, dir, context, reference, commit)
  return { tag, commit }
}

/**
 * The change a redeploy runs: unchanged without `change.build`; else the commit is built
 * and its tag replaces any other, with DECKHAND_IMAGE_TAG saying so.
 */
export async function applyGitBuild(
  client: DockerClient,
  gitDir: string,
  service: Service,
  change: RedeployChange,
  ctx: DriverContext,
): Promise<{ change: RedeployChange; pull: PullPolicy }> {
  if (!change.build) {
    return { change, pull: service.deploy.pull }
  }
  const built = await buildFromGit({
    client,
    gitDir,
    service: service.name,
    image: service.image,
    build: change.build,
    log: ctx.log,
    signal: ctx.signal,
  })
  if (change.tag !== undefined && change.tag !== built.tag) {
    ctx.log(
      `running the image built from ${built.commit} (tag ${built.tag}), not tag ${change.tag}`,
    )
  }
  return {
    change: changeWithTag(change, built.tag),
    // The image exists only on this engine: no registry has it, so a pull would fail.
    pull: 'missing',
  }
}

/** `./web/` → `web`; `.` → ``; refuses a context outside the repository. */
function contextPath(context: string): string {
  const normal = posix.normalize(context.replaceAll('\\', '/')).replace(/^\.\/?|\/$/g, '')
  if (normal.startsWith('..') || posix.isAbsolute(normal)) {
    throw new DeployFailure(
      `git.build.context ${JSON.stringify(context)} is outside the repository; name a folder inside it`,
    )
  }
  return normal
}

async function buildImage(
  request: GitBuildRequest,
  dir: string,
  context: string,
  reference: string,
  commit: string,
): Promise<void> {
  const { build, log, signal } = request
  log(`building ${reference} from ${context || '.'} with ${build.dockerfile}`)
  const started = Date.now()
  // The context is the commit's tree as git stores it: no .git, no stray files in the work dir.
  const archive = spawn('git', ['-C', dir, 'archive', '--format=tar', `${commit}:${context}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: childEnv(),
    signal,
  })
  const stderr: Buffer[] = []
  archive.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
  archive.on('error', () => undefined)
  const archived = new Promise<number | null>((resolve) => archive.on('close', resolve))
  const output: string[] = []
  try {
    await request.client.buildImage(
      archive.stdout,
      {
        t: reference,
        dockerfile: build.dockerfile,
        labels: { [GIT_COMMIT_LABEL]: commit },
        signal,
      },
      (line) => {
        output.push(line)
        log(line, 'stdout')
      },
    )
  } catch (error) {
    // The engine may have stopped reading; a blocked archive would never exit by itself.
    if (archive.exitCode === null) {
      archive.kill()
    }
    const code = await archived
    const why =
      typeof code === 'number' && code !== 0
        ? `git archive of ${context || 'the repository root'} failed: ${Buffer.concat(stderr)
            .toString('utf8')
            .trim()}`
        : engineMessage(error)
    throw new DeployFailure(
      `building ${reference} from ${commit.slice(0, 12)} failed, nothing was changed: ${why}` +
        (output.length > 0 ? `; the last build lines:\n${output.slice(-10).join('\n')}` : ''),
      { cause: error },
    )
  }
  log(`built ${reference} in ${Date.now() - started} ms`)
}

function run(file: string, args: string[], signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      // No prompt for credentials: a deploy has no terminal, it should fail and say so.
      { signal, env: { ...childEnv(), GIT_TERMINAL_PROMPT: '0' }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          reject(
            new DeployFailure(
              `${file} ${args.filter((arg) => arg !== '--').join(' ')} failed: ${stderr.trim() || error.message}`,
              { cause: error },
            ),
          )
        } else {
          resolve(stdout.trim())
        }
      },
    )
  })
}
