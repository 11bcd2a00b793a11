/**
 * One status line on stderr that rewrites itself: phase, rows so far and rate. When stderr is
 * not a terminal (CI logs), it prints a plain line per finished phase instead of redrawing.
 */
export interface Progress {
  /** Starts a phase; `total` rows are expected (0 when unknown). */
  phase(name: string, total?: number): void;
  /** Adds rows done in the current phase. */
  advance(rows: number): void;
  /** A free-form status (a scenario running), redrawn in place. */
  status(text: string): void;
  /** Ends the current line so ordinary output can follow. */
  done(): void;
}

const REDRAW_MS = 200;

export function createProgress(stream: NodeJS.WriteStream = process.stderr, quiet = false): Progress {
  const tty = stream.isTTY === true;
  let name = '';
  let total = 0;
  let rows = 0;
  let started = 0;
  let lastDraw = 0;
  let open = false;

  const line = () => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? Math.round(rows / seconds) : 0;
    const of = total > 0 ? `/${total.toLocaleString('en')} (${Math.floor((100 * rows) / total)}%)` : '';
    return `${name}: ${rows.toLocaleString('en')}${of} rows, ${rate.toLocaleString('en')} rows/s, ${seconds.toFixed(1)}s`;
  };
  const draw = (text: string) => {
    if (quiet) return;
    if (tty) {
      stream.write(`\r\x1b[2K${text}`);
      open = true;
    }
  };
  const finishPhase = () => {
    if (!name || quiet) return;
    if (tty) draw(line());
    else stream.write(`${line()}\n`);
    if (tty) stream.write('\n');
    open = false;
    name = '';
  };

  return {
    phase(next, expected = 0) {
      finishPhase();
      name = next;
      total = expected;
      rows = 0;
      started = performance.now();
      lastDraw = 0;
      draw(line());
    },
    advance(count) {
      rows += count;
      const now = performance.now();
      if (now - lastDraw >= REDRAW_MS) {
        lastDraw = now;
        draw(line());
      }
    },
    status(text) {
      finishPhase();
      if (tty) draw(text);
      else if (!quiet) stream.write(`${text}\n`);
    },
    done() {
      finishPhase();
      if (open && tty) stream.write('\n');
      open = false;
    },
  };
}
