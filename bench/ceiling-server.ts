/**
 * The ceiling: a bare node:http server that reads the whole body and answers 202, nothing
 * else. Deckhand cannot be faster than this on the same machine and Node.
 */
import { createServer } from 'node:http'

const port = Number(process.argv[2] ?? 0)
const answer = JSON.stringify({ status: 'queued' })
createServer((request, response) => {
  request.on('data', () => {})
  request.on('end', () => {
    response.writeHead(202, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(answer),
    })
    response.end(answer)
  })
}).listen(port, '127.0.0.1')
process.once('SIGTERM', () => process.exit(0))
