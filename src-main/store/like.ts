// Search terms become LIKE patterns; % and _ typed by the user match themselves.
export function likePattern(search: string | undefined): string | null {
  const term = search?.trim();
  if (!term) return null;
  return `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
