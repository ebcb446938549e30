// Loaded into every test file's process (node --test passes --import on to them). With
// --test-force-exit, Node's runner exits a file's process as soon as its last test ends, and on
// a busy machine the end of its report can still be in a non-blocking pipe buffer: the parent
// then counts fewer tests than ran (nodejs/node#64833; the exit code still carries a failure).
// Blocking writes leave nothing behind when the process exits.
for (const stream of [process.stdout, process.stderr]) {
  stream._handle?.setBlocking?.(true);
}
