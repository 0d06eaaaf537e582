/**
 * Lists the keys of a JSON object's top level in source order, duplicates included.
 * `JSON.parse` silently keeps the last of duplicate keys; the safetensors spec forbids them,
 * so the header parser scans the raw text with this helper. Input must already be valid JSON
 * (the caller parses it first); this only tracks strings and nesting depth.
 */

/**
 * Returns the top-level keys of the JSON object in `text`, in order, with duplicates.
 * @param text - a valid JSON document whose root is an object
 */
export function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      const start = i;
      i++;
      while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
      if (depth === 1) {
        let j = i;
        while (j < text.length && /\s/.test(text[j])) j++;
        if (text[j] === ':') keys.push(JSON.parse(text.slice(start, i)) as string);
      }
      continue;
    }
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    i++;
  }
  return keys;
}
