/**
 * A one-line spinner ("⠹ thinking…") while a turn is working, so the terminal does not look
 * hung during a long model call. It writes only to a TTY (stderr, by default): piped output
 * never gets escape codes or carriage returns. Printing text clears it first; it comes back
 * on the next tick while still running. While a question waits for an answer it is suspended,
 * so it never draws over the question.
 */

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const TICK_MS = 100;
/** Carriage return, then erase to the end of the line. */
const CLEAR = '\r\x1b[K';

/** Where a status line is drawn. */
export interface StatusStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

/** The spinner. Disabled (a no-op) when its stream is not a TTY or `enabled` is false. */
export class StatusLine {
  readonly #stream: StatusStream;
  readonly #isEnabled: boolean;
  #timer: NodeJS.Timeout | undefined;
  #frame = 0;
  #isShown = false;
  #holds = 0;
  #label = 'thinking…';

  /**
   * @param stream Where to draw (the terminal's stderr).
   * @param enabled False forces it off (stdout is not a terminal: the conversation is piped).
   */
  constructor(stream: StatusStream, enabled = true) {
    this.#stream = stream;
    this.#isEnabled = enabled && stream.isTTY === true;
  }

  /** Whether it draws at all. */
  get isEnabled(): boolean {
    return this.#isEnabled;
  }

  /** Show the spinner with `label`, now and every tick, until {@link stop}. */
  start(label = 'thinking…'): void {
    if (!this.#isEnabled) return;
    this.#label = label;
    this.#draw();
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.#draw(), TICK_MS);
    this.#timer.unref();
  }

  /**
   * Erase it and draw nothing until the returned function is called (a question is on screen);
   * started or stopped meanwhile, it keeps that state.
   */
  suspend(): () => void {
    this.#holds++;
    this.clear();
    let isReleased = false;
    return () => {
      if (isReleased) return;
      isReleased = true;
      this.#holds--;
    };
  }

  /** Erase it for a moment (text is about to be printed); it is drawn again on the next tick. */
  clear(): void {
    if (!this.#isShown) return;
    this.#stream.write(CLEAR);
    this.#isShown = false;
  }

  /** Erase it and stop drawing. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.clear();
  }

  #draw(): void {
    if (this.#holds > 0) return;
    this.#frame = (this.#frame + 1) % FRAMES.length;
    this.#stream.write(`${CLEAR}${FRAMES[this.#frame]} ${this.#label}`);
    this.#isShown = true;
  }
}
