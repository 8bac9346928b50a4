// scheme://host of a URL. Node's URL gives origin "null" for custom schemes such as app://,
// so it is assembled here; null for anything unparsable.
export function urlOrigin(url: string): string | null {
  try {
    const u = new URL(url);
    return u.host ? `${u.protocol}//${u.host}` : null;
  } catch {
    return null;
  }
}
