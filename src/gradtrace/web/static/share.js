// The state in the URL (base64url JSON after "#spec="), downloads and uploads of the spec.

function toBase64Url(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text) {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

export function specToHash(spec) {
  return `#spec=${toBase64Url(JSON.stringify(spec))}`;
}

// The spec in location.hash, or null; throws an Error with a readable message if it is damaged.
export function specFromHash(hash) {
  if (!(hash || "").startsWith("#spec=")) return null;
  const match = /^#spec=([A-Za-z0-9_-]+)$/.exec(hash);
  if (!match) {
    throw new Error("the link's #spec= part is damaged (it holds characters that base64url "
      + "never uses; was it cut or changed when copied?)");
  }
  try {
    return JSON.parse(fromBase64Url(match[1]));
  } catch {
    throw new Error("the link's #spec= part is damaged (it is not base64url-encoded JSON; was it cut short when copied?)");
  }
}

// The query of GET /api/exercise a "#exercise=SEED[&sizes=2,2,1&...]" link names, or null.
export function exerciseQuery(hash) {
  if (!(hash || "").startsWith("#exercise=")) return null;
  const match = /^#exercise=(\d+)((?:&(?:sizes|activations|loss|decimals)=[A-Za-z0-9_,]+)*)$/.exec(hash);
  if (!match) {
    throw new Error("the link's #exercise= part is damaged (it should be a seed, e.g. "
      + "#exercise=7, optionally followed by &sizes=2,2,1&activations=sigmoid&loss=half_sse)");
  }
  return `seed=${match[1]}${match[2]}`;
}

export function download(filename, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function readFile(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(new Error(`cannot read ${file.name}`));
    reader.readAsText(file);
  });
}
