/**
 * The durable ceiling: a bare node:http server that appends each body to a file and answers
 * 202 only once an fdatasync covering it has returned. Calls that arrive while a flush runs
 * share the next one (group commit, no timer): the physical limit of a durable answer on this
 * machine and Node, which Deckhand's `202 = committed and flushed` cannot beat.
 */
import { fdatasync, openSync, write } from 'node:fs'
import { createServer, type ServerResponse } from 'node:http'

const port = Number(process.argv[2] ?? 0)
const fd = openSync(process.argv[3] ?? 'calls.log', 'a')
const answer = JSON.stringify({ status: 'queued' })
let waiting: { body: Buffer; response: ServerResponse }[] = []
let flushing = false

function flush(): void {
  flushing = true
  const group = waiting
  waiting = []
  write(fd, Buffer.concat(group.map((call) => call.body)), (error) => {
    if (error) {
      throw error
    }
    fdatasync(fd, (synced) => {
      if (synced) {
        throw synced
      }
      for (const { response } of group) {
        response.writeHead(202, {
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(answer),
        })
        response.end(answer)
      }
      if (waiting.length > 0) {
        flush()
      } else {
        flushing = false
      }
    })
  })
}

createServer((request, response) => {
  const chunks: Buffer[] = []
  request.on('data', (chunk: Buffer) => chunks.push(chunk))
  request.on('end', () => {
    chunks.push(Buffer.from('\n'))
    waiting.push({ body: Buffer.concat(chunks), response })
    if (!flushing) {
      flush()
    }
  })
}).listen(port, '127.0.0.1')
process.once('SIGTERM', () => process.exit(0))
