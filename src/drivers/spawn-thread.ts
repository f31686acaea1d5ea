/**
 * Child processes started from a worker thread, not the event loop. Node's spawn() forks the
 * whole server and waits until the child has exec'd: on the 2-core bench machine that held
 * the event loop 2–40 ms per child, more the larger the server's memory, and with deployments
 * that finish at once (the churn bench) the loop spent much of each second in spawn() instead
 * of accepting calls (bench/README.md, sixth session). The fork now happens on the worker's
 * thread; its output, exit and errors come back as messages, in the order they happened, and
 * are replayed as a ChildProcess-like object with stdout and stderr streams.
 */
import { EventEmitter } from 'node:events'
import { PassThrough } from 'node:stream'
import { Worker } from 'node:worker_threads'

export interface ThreadSpawnOptions {
  cwd?: string
  env: Record<string, string>
  detached?: boolean
}

/** What the command driver uses of a ChildProcess: pid, output streams, 'exit' and 'error'. */
export interface ThreadChild extends EventEmitter {
  /** Set once the child has started (before any output or 'exit'). */
  pid: number | undefined
  /** The pid once the child has started; undefined if it could not start. */
  spawned: Promise<number | undefined>
  stdout: PassThrough
  stderr: PassThrough
}

type Message =
  | { id: number; type: 'spawn'; pid: number }
  | { id: number; type: 'stdout' | 'stderr'; data: Uint8Array }
  | { id: number; type: 'end'; stream: 'stdout' | 'stderr' }
  | { id: number; type: 'exit'; code: number | null; signal: NodeJS.Signals | null }
  | { id: number; type: 'error'; message: string; code?: string }

// Plain JavaScript evaluated by the worker: no TypeScript to load, nothing of the server's.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads')
const { spawn } = require('node:child_process')
parentPort.on('message', ({ id, file, args, options }) => {
  const post = (message) => parentPort.postMessage({ id, ...message })
  let child
  try {
    child = spawn(file, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (error) {
    post({ type: 'error', message: error.message, code: error.code })
    return
  }
  child.once('spawn', () => post({ type: 'spawn', pid: child.pid }))
  child.once('error', (error) => post({ type: 'error', message: error.message, code: error.code }))
  for (const stream of ['stdout', 'stderr']) {
    child[stream].on('data', (data) => post({ type: stream, data }))
    child[stream].once('close', () => post({ type: 'end', stream }))
  }
  child.once('exit', (code, signal) => post({ type: 'exit', code, signal }))
})
`

let worker: Worker | undefined
let nextId = 0
/** Children the worker still relays: until their exit and the end of both output streams. */
const children = new Map<number, Relayed>()

interface Relayed {
  child: ThreadChild
  started: (pid: number | undefined) => void
  open: number
  exited: boolean
}

function theWorker(): Worker {
  if (worker) {
    return worker
  }
  const started = new Worker(WORKER_SOURCE, {
    eval: true,
    // The worker only relays bytes: a small heap keeps the server's memory where it was.
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
  })
  // Referenced only while it relays a child (forget): alone it keeps no process up.
  started.unref()
  started.on('message', (message: Message) => deliver(message))
  started.on('error', (error) => lose(started, error))
  started.on('exit', () => lose(started, new Error('the spawning thread stopped')))
  worker = started
  return started
}

/** The worker is gone: every child it relayed fails, and the next spawn starts a new one. */
function lose(lost: Worker, error: Error): void {
  if (worker !== lost) {
    return
  }
  worker = undefined
  for (const [id, { child, started }] of children) {
    started(undefined)
    children.delete(id)
    child.emit('error', error)
    child.stdout.end()
    child.stderr.end()
  }
}

function forget(id: number): void {
  children.delete(id)
  if (children.size === 0) {
    worker?.unref()
  }
}

function deliver(message: Message): void {
  const entry = children.get(message.id)
  if (!entry) {
    return
  }
  const { child } = entry
  switch (message.type) {
    case 'spawn':
      child.pid = message.pid
      entry.started(message.pid)
      return
    case 'stdout':
    case 'stderr':
      child[message.type].write(Buffer.from(message.data))
      return
    case 'end':
      child[message.stream].end()
      entry.open -= 1
      break
    case 'exit':
      entry.exited = true
      child.emit('exit', message.code, message.signal)
      break
    case 'error': {
      entry.started(undefined)
      forget(message.id)
      const error = Object.assign(new Error(message.message), { code: message.code })
      child.emit('error', error)
      child.stdout.end()
      child.stderr.end()
      return
    }
  }
  if (entry.exited && entry.open === 0) {
    forget(message.id)
  }
}

/** spawn(file, args) with stdin ignored and stdout, stderr piped, from the spawning thread. */
export function spawnFromThread(
  file: string,
  args: string[],
  options: ThreadSpawnOptions,
): ThreadChild {
  const { promise: spawned, resolve: started } = Promise.withResolvers<number | undefined>()
  const child = Object.assign(new EventEmitter(), {
    pid: undefined,
    spawned,
    stdout: new PassThrough(),
    stderr: new PassThrough(),
  }) as ThreadChild
  const id = nextId++
  const thread = theWorker()
  if (children.size === 0) {
    thread.ref()
  }
  children.set(id, { child, started, open: 2, exited: false })
  thread.postMessage({ id, file, args, options })
  return child
}
