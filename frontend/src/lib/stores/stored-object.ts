/** A remembered JSON object from localStorage: its fields to check one by one, or null when absent or unreadable. */
export function parseStoredObject(raw: string | null): Record<string, unknown> | null {
  if (raw === null) return null;
  let stored: unknown;
  try {
    stored = JSON.parse(raw);
  } catch {
    return null;
  }
  return typeof stored === 'object' && stored !== null ? (stored as Record<string, unknown>) : null;
}
