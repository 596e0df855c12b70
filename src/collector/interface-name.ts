/**
 * The kernel's rule for a network interface name (dev_valid_name() in net/core/dev.c): 1 to 15 bytes
 * (IFNAMSIZ is 16 with the trailing NUL), not "." or "..", and no '/', ':', NUL or whitespace byte.
 * Whitespace is the kernel's isspace(), which works on bytes and includes 0xA0, so the check runs over
 * the UTF-8 bytes, not the JavaScript characters.
 *
 * Every name is checked with this before it becomes part of a /sys path, and the API validates its
 * input with it, so a name can never walk out of /sys/class/net.
 */
export const MAX_INTERFACE_NAME_BYTES = 15;

const SLASH = 0x2f;
const COLON = 0x3a;

function isKernelSpaceByte(byte: number): boolean {
  // The kernel's _ctype table: \t \n \v \f \r, space and Latin-1 NBSP.
  return (byte >= 0x09 && byte <= 0x0d) || byte === 0x20 || byte === 0xa0;
}

export function isValidInterfaceName(name: string): boolean {
  if (typeof name !== 'string' || name === '' || name === '.' || name === '..') return false;
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length > MAX_INTERFACE_NAME_BYTES) return false;
  for (const byte of bytes) {
    if (byte === 0 || byte === SLASH || byte === COLON || isKernelSpaceByte(byte)) return false;
  }
  return true;
}

/**
 * Interface names in code-unit order, for stable listings. Not localeCompare: its first call loads ICU's
 * collation data (≈ 3 MiB of RSS, issue #13), and names are bytes to the kernel, not words.
 */
export function compareInterfaceNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
