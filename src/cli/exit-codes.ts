/**
 * The exit codes of the `mithai` command, in one place (docs/cli.md lists them for scripts).
 * Every command uses 0, 1, 2 and 130; piped `mithai chat` adds 3–5 so a script can tell a
 * model that could not be reached from a turn that failed or a call nobody answered.
 */
export const EXIT = {
  /** Done, or the reader of stdout went away (`| head`): nothing more was wanted. */
  ok: 0,
  /** A one-line error on stderr: bad config, a refused decision, a failed or denied tool run. */
  failed: 1,
  /** Bad arguments: an unknown option or command, a bad option value, an unknown tool. */
  usage: 2,
  /** Piped `mithai chat`: a turn ended because the model could not be reached or answered with an error. */
  modelError: 3,
  /** Piped `mithai chat`: a turn failed inside mithai (the reply says so; the error is in the logs). */
  turnFailed: 4,
  /** Piped `mithai chat`: input ended before an approval was answered, so the gated call was cancelled. */
  noAnswer: 5,
  /** Interrupted by Ctrl-C or SIGTERM. */
  interrupted: 130,
} as const;

/** One of {@link EXIT}'s codes. */
export type ExitCodeValue = (typeof EXIT)[keyof typeof EXIT];
