/**
 * Times as the person at the terminal reads them: in their local time zone (the process's TZ),
 * `14:05:30` today and `2025-06-02 14:05:30` on another day, with how long is left until a
 * deadline. Stored times stay ISO UTC; only the terminal's text changes.
 */

const pad = (n: number): string => String(n).padStart(2, '0');

/**
 * An ISO time in local time: the clock time alone when it falls on today's local date,
 * otherwise the local date and time. An unreadable time is returned as it is.
 */
export function localTime(iso: string, now: number = Date.now()): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const clock = `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
  const today = new Date(now);
  const isToday = at.getFullYear() === today.getFullYear() && at.getMonth() === today.getMonth() && at.getDate() === today.getDate();
  return isToday ? clock : `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${clock}`;
}

/** A deadline in local time with the time left: `14:05:30 (in 5 min)`, `14:05:30 (passed)`. */
export function localDeadline(iso: string, now: number = Date.now()): string {
  const left = Date.parse(iso) - now;
  if (Number.isNaN(left)) return iso;
  return `${localTime(iso, now)} (${left <= 0 ? 'passed' : `in ${duration(left)}`})`;
}

function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 90) return `${Math.max(1, seconds)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.round(hours / 24)} days`;
}
