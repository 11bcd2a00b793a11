/**
 * Whether `given` is exactly a permutation of `current` (every id once, nothing else), and if
 * not, what is wrong, in words for a 400 on the field. Pure; unit-tested.
 */
export function permutationProblem(what: string, current: readonly number[], given: readonly number[]): string | null {
  const known = new Set(current);
  const seen = new Set<number>();
  const repeated = new Set<number>();
  const foreign = new Set<number>();
  for (const id of given) {
    if (seen.has(id)) repeated.add(id);
    seen.add(id);
    if (!known.has(id)) foreign.add(id);
  }
  const missing = current.filter((id) => !seen.has(id));
  const problems: string[] = [];
  if (missing.length > 0) problems.push(`missing ${list(missing)}`);
  if (repeated.size > 0) problems.push(`repeated ${list([...repeated])}`);
  if (foreign.size > 0) problems.push(`not ${what}s of this course ${list([...foreign])}`);
  return problems.length === 0 ? null : `List every ${what} of the course exactly once: ${problems.join('; ')}.`;
}

const list = (ids: number[]) => {
  const shown = ids.slice(0, 20).join(', ');
  return ids.length > 20 ? `${shown}, …` : shown;
};

/**
 * Temporary positions for the rows that move: above `count` (where the new order ends) and
 * clear of every position held now, so moving rows there and then to 1..count never puts
 * two rows of a course on one position, even for an instant (PostgreSQL checks a unique
 * constraint row by row).
 */
export function parkingPositions(count: number, taken: ReadonlySet<number>, moving: number): number[] {
  const slots: number[] = [];
  let candidate = count;
  while (slots.length < moving) {
    candidate += 1;
    if (!taken.has(candidate)) slots.push(candidate);
  }
  return slots;
}
