/** Reactive state kept in localStorage under `key`: read once at start, written back on every change. */
function readStorage(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

export function storedState<T extends object>(key: string, parse: (raw: string | null) => T, serialize: (value: T) => string): T {
  const state: T = $state(parse(readStorage(key)));
  $effect.root(() => {
    $effect(() => {
      const text = serialize(state);
      try {
        localStorage.setItem(key, text);
      } catch {
        // Private mode or a full quota: the values last for this visit only.
      }
    });
  });
  return state;
}
