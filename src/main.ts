/** The `deckhand` bin: `serve` runs the server; every other command is the CLI. */
const [command, ...rest] = process.argv.slice(2)

if (command === 'serve') {
  const { serve } = await import('./server/serve.ts')
  process.exitCode = await serve(rest)
} else {
  const { runCli } = await import('./cli/cli.ts')
  process.exitCode = await runCli(process.argv.slice(2))
}
